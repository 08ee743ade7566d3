import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FieldError, MAX_ID_LENGTH, readId } from '../events/index.js';
import { errorBody } from './errors.js';

/**
 * The ids and names that travel in URLs. A value a body may create (an item id, a user id) must be
 * accepted again where a URL names it, so each path or query parameter is checked by the same reader
 * the bodies use (`events/fields.ts`), by its name, for every route at once; and the router's length
 * limit is derived from these rules rather than left at find-my-way's default of 100.
 */
export interface ParamRule {
  /** The longest value accepted, in UTF-16 code units (the unit `String.length` counts). */
  readonly maxLength: number;
  /** The value, or why it is refused (a message that starts with `field`). */
  readonly read: (value: string, field: string) => string | FieldError;
}

const ID_RULE: ParamRule = { maxLength: MAX_ID_LENGTH, read: (value, field) => readId(value, field) };

export const MAX_PRESET_NAME_LENGTH = 64;
const PRESET_NAME = /^[A-Za-z0-9_.-]+$/;

/** Rule preset names: short ASCII words, so they read the same in a URL as in the store. */
export function readPresetName(value: string, field: string): string | FieldError {
  if (value.length === 0) return new FieldError(field, `${field} must not be empty`);
  if (value.length > MAX_PRESET_NAME_LENGTH) {
    return new FieldError(field, `${field} is longer than ${MAX_PRESET_NAME_LENGTH} characters`);
  }
  if (!PRESET_NAME.test(value)) {
    return new FieldError(field, `${field} may hold only the characters A-Z, a-z, 0-9, "_", "." and "-"`);
  }
  // Unreachable through URL parsers (they resolve dot segments), so a preset by that name could not be used.
  if (value === '.' || value === '..') {
    return new FieldError(field, `${field} must not be "." or "..": URLs resolve those as path steps`);
  }
  return value;
}

/** Every path parameter of every route, by name; a route using a name not listed here fails to register. */
export const PATH_PARAMS: Readonly<Record<string, ParamRule>> = {
  id: ID_RULE,
  request_id: ID_RULE,
  name: { maxLength: MAX_PRESET_NAME_LENGTH, read: readPresetName },
};

/** Query parameters that carry ids, checked wherever they appear (recommendations, explain, similar). */
export const QUERY_IDS: Readonly<Record<string, ParamRule>> = {
  user_id: ID_RULE,
  item_id: ID_RULE,
  request_id: ID_RULE,
};

/**
 * The most characters one UTF-16 code unit takes once percent-encoded: U+0800–U+FFFF is 3 UTF-8 bytes,
 * `%XX` each (an astral character is 4 bytes for 2 code units, so fewer per unit).
 */
export const MAX_ENCODED_PER_CODE_UNIT = 9;

/**
 * The router's `maxParamLength`. find-my-way 9 measures a segment after percent-decoding, but clients
 * send it encoded: sized for the longest accepted value in its longest encoding, the limit lets every
 * accepted value through whichever length a router counts. Values longer than a rule allows still reach
 * the rule, which refuses them with a 400 naming the parameter.
 */
export const ROUTER_MAX_PARAM_LENGTH =
  Math.max(...Object.values(PATH_PARAMS).map((rule) => rule.maxLength)) * MAX_ENCODED_PER_CODE_UNIT;

/**
 * The schema of an id in a path or query. Only its type: its content is checked by the rules above in
 * `preValidation`, so a body id and a URL id get the same limits and the same messages.
 */
export const IdSchema = Type.String({
  description: `An id: 1 to ${MAX_ID_LENGTH} UTF-16 code units, not blank, not "." or ".."; percent-encoded.`,
});

/** The names of a route pattern's path parameters (`/v1/items/:id/similar` → `id`). */
export function pathParamNames(url: string): string[] {
  return url
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1));
}

/** Throws for a route whose path parameter has no rule: its values would go unchecked. */
export function assertPathParamsKnown(url: string): void {
  for (const name of pathParamNames(url)) {
    if (!Object.hasOwn(PATH_PARAMS, name)) {
      throw new Error(`route ${url}: path parameter "${name}" has no rule in api/url-params.ts`);
    }
  }
}

/** Why a request's URL parameters are refused (naming the first bad one), or null. */
export function urlParamsProblem(params: unknown, query: unknown): string | null {
  if (typeof params === 'object' && params !== null) {
    for (const [name, value] of Object.entries(params)) {
      const rule = Object.hasOwn(PATH_PARAMS, name) ? PATH_PARAMS[name] : undefined;
      if (rule === undefined || typeof value !== 'string') continue;
      const result = rule.read(value, name);
      if (result instanceof FieldError) return `params field "${name}": ${result.message}`;
    }
  }
  if (typeof query === 'object' && query !== null) {
    for (const [name, rule] of Object.entries(QUERY_IDS)) {
      const value: unknown = (query as Record<string, unknown>)[name];
      // Absent or repeated values are the schema's business; only a single value is an id to check.
      if (typeof value !== 'string') continue;
      const result = rule.read(value, name);
      if (result instanceof FieldError) return `query field "${name}": ${result.message}`;
    }
  }
  return null;
}

/** A `preValidation` hook: refuses a request whose URL ids or names break their rules, with a 400. */
export async function checkUrlParams(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const problem = urlParamsProblem(request.params, request.query);
  // Returning the reply tells Fastify the hook answered, so neither validation nor the handler runs.
  if (problem !== null) return reply.status(400).send(errorBody('invalid_request', problem));
  return undefined;
}
