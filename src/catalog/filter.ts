import type { Scalar } from '../shared/types.js';
import type { Item } from './types.js';

/**
 * Request-time item filters. Expressions are parsed once per request into small predicate objects;
 * matching an item is then a few comparisons, with no parsing, regex or allocation per item.
 *
 * Grammar: `<field><op><value>` with op one of `=` (or `==`), `!=`, `<`, `<=`, `>`, `>=`; spaces
 * around field and value are trimmed. Fields:
 * - `category`: `category=x` adds x to the any-of category list (an item matches if it has ANY listed
 *   category); `category!=x` excludes items in category x.
 * - `categories`, `tags` (or `tag`): membership, `=` and `!=` only.
 * - `price`: numeric, all ops; an item without a price matches only `!=`.
 * - `available`: `=`/`!=` with `true` or `false`.
 * - `attributes.<key>`, or a bare `<key>` naming any other attribute. `=` compares strings exactly,
 *   numbers numerically, booleans with `true`/`false`, null with `null`; `!=` is its negation and so
 *   also matches items without the attribute. Ordering ops need a number and match only numeric
 *   attributes (a numeric string attribute does not take part).
 */
export interface ItemFilter {
  /** Any-of: an item matches if it has at least one; empty means no category restriction. */
  readonly categories: readonly string[];
  /** All-of. */
  readonly predicates: readonly ItemPredicate[];
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type ItemPredicate =
  | { readonly kind: 'price'; readonly op: CompareOp; readonly value: number }
  | { readonly kind: 'available'; readonly value: boolean; readonly negate: boolean }
  | {
      readonly kind: 'member';
      readonly field: 'categories' | 'tags';
      readonly value: string;
      readonly negate: boolean;
    }
  | {
      readonly kind: 'attribute';
      readonly key: string;
      readonly op: CompareOp;
      readonly text: string;
      /** `text` as a number, or NaN when it is not one (then `=` never matches a numeric attribute). */
      readonly number: number;
    };

/** A filter expression the API should answer with 400; the message names the expression. */
export class ItemFilterError extends Error {
  readonly expression: string;
  constructor(expression: string, reason: string) {
    super(`invalid filter ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'ItemFilterError';
    this.expression = expression;
  }
}

/** Matches every item. */
export const emptyItemFilter: ItemFilter = Object.freeze({ categories: [], predicates: [] });

/**
 * Compiles filter expressions (and the request's `category` values, if the API reads them apart) into
 * an ItemFilter. Throws ItemFilterError on the first invalid expression.
 */
export function parseItemFilter(
  expressions: readonly string[],
  categories: readonly string[] = [],
): ItemFilter {
  if (expressions.length === 0 && categories.length === 0) return emptyItemFilter;
  const anyOf = new Set<string>();
  for (const category of categories) {
    if (category.length === 0) throw new ItemFilterError(`category=${category}`, 'the category is empty');
    anyOf.add(category);
  }
  const predicates: ItemPredicate[] = [];
  for (const expression of expressions) {
    const { field, op, value } = split(expression);
    if (field === 'category' && op === '=') anyOf.add(value);
    else predicates.push(compile(expression, field, op, value));
  }
  return { categories: [...anyOf], predicates };
}

interface Parts {
  readonly field: string;
  readonly op: CompareOp;
  readonly value: string;
}

function split(expression: string): Parts {
  // The field ends at the first operator character; the value may contain any (`note=a=b`).
  let at = -1;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '=' || c === '<' || c === '>' || c === '!') {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw new ItemFilterError(expression, 'expected <field><op><value> with op one of =, !=, <, <=, >, >=');
  }
  const field = expression.slice(0, at).trim();
  if (field === '') throw new ItemFilterError(expression, 'the field name is missing');
  const two = expression.slice(at, at + 2);
  let op: CompareOp;
  let length = 2;
  if (two === '<=' || two === '>=' || two === '!=') op = two;
  else if (two === '==') op = '=';
  else if (two[0] === '!') throw new ItemFilterError(expression, '"!" must be followed by "="');
  else {
    op = two[0] === '<' ? '<' : two[0] === '>' ? '>' : '=';
    length = 1;
  }
  const value = expression.slice(at + length).trim();
  if (value === '') throw new ItemFilterError(expression, 'the value is missing');
  return { field, op, value };
}

function compile(expression: string, field: string, op: CompareOp, value: string): ItemPredicate {
  switch (field) {
    case 'price': {
      const number = parseNumber(value);
      if (Number.isNaN(number)) throw new ItemFilterError(expression, 'price is compared with a number');
      return { kind: 'price', op, value: number };
    }
    case 'available': {
      if (op !== '=' && op !== '!=') throw new ItemFilterError(expression, 'available takes only = or !=');
      if (value !== 'true' && value !== 'false') {
        throw new ItemFilterError(expression, 'available is compared with true or false');
      }
      return { kind: 'available', value: value === 'true', negate: op === '!=' };
    }
    case 'category':
    case 'categories':
    case 'tag':
    case 'tags': {
      if (op !== '=' && op !== '!=') throw new ItemFilterError(expression, `${field} takes only = or !=`);
      const listField = field === 'tag' || field === 'tags' ? 'tags' : 'categories';
      return { kind: 'member', field: listField, value, negate: op === '!=' };
    }
  }
  const key = field.startsWith('attributes.') ? field.slice('attributes.'.length) : field;
  if (key === '') throw new ItemFilterError(expression, 'the attribute name is missing');
  const number = parseNumber(value);
  if (op !== '=' && op !== '!=' && Number.isNaN(number)) {
    throw new ItemFilterError(expression, `${op} compares with a number`);
  }
  return { kind: 'attribute', key, op, text: value, number };
}

/** Plain decimal numbers only: Number() would also take '', '0x1f' and 'Infinity'. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(text: string): number {
  if (!NUMBER.test(text)) return NaN;
  const number = Number(text);
  return Number.isFinite(number) ? number : NaN;
}

/** Whether `item` passes every part of `filter`. */
export function matchesItem(item: Item, filter: ItemFilter): boolean {
  if (filter.categories.length > 0 && !hasAny(item.categories, filter.categories)) return false;
  for (const predicate of filter.predicates) {
    if (!test(item, predicate)) return false;
  }
  return true;
}

function hasAny(have: readonly string[], wanted: readonly string[]): boolean {
  for (const value of have) {
    if (wanted.includes(value)) return true;
  }
  return false;
}

function test(item: Item, p: ItemPredicate): boolean {
  switch (p.kind) {
    case 'price':
      // No price: not comparable, so only "differs from" holds.
      return item.price === null ? p.op === '!=' : compare(item.price, p.op, p.value);
    case 'available':
      return (item.available === p.value) !== p.negate;
    case 'member':
      return item[p.field].includes(p.value) !== p.negate;
    case 'attribute': {
      const attributes = item.attributes;
      // hasOwn: attribute records from JSON inherit from Object.prototype (`constructor`, `toString`).
      const value = Object.hasOwn(attributes, p.key) ? attributes[p.key] : undefined;
      if (p.op === '=') return attributeEquals(value, p.text, p.number);
      if (p.op === '!=') return !attributeEquals(value, p.text, p.number);
      return typeof value === 'number' && compare(value, p.op, p.number);
    }
  }
}

function attributeEquals(value: Scalar | undefined, text: string, number: number): boolean {
  switch (typeof value) {
    case 'string':
      return value === text;
    case 'number':
      return value === number;
    case 'boolean':
      return text === (value ? 'true' : 'false');
    default:
      return value === null && text === 'null';
  }
}

function compare(a: number, op: CompareOp, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}
