/**
 * Writes the SDK's reply and request types (`packages/sdk/src/generated/api.ts`) from the OpenAPI document
 * (`docs/openapi.json`), so that what the SDK promises is what the server's route schemas say:
 *
 *     node --import tsx scripts/sdk-types.ts [spec.json] [out.ts]      (npm run sdk:types)
 *
 * A small JSON Schema → TypeScript translation of our own (no generator dependency): objects with required
 * and optional properties, additionalProperties, arrays and tuples, the primitive types, enum/const,
 * anyOf/oneOf unions, allOf intersections, `nullable` and `$ref`s into `components.schemas`. Each operation
 * gets named types by method and path (`GET /v1/items/{id}/similar` → `GetItemsSimilarReply`,
 * `GetItemsSimilarQuery`), never by operationId, so renaming an operation does not rename SDK types.
 * The output is formatted with the repository's prettier settings, so the test that compares it with a
 * fresh generation (packages/sdk/test/sdk-types.test.ts) sees the exact text.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { format, resolveConfig } from 'prettier';

/** The parts of JSON Schema (and OpenAPI 3's dialect of it) that are translated; anything else is ignored. */
export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly patternProperties?: Readonly<Record<string, JsonSchema>>;
  readonly items?: JsonSchema | readonly JsonSchema[];
  readonly prefixItems?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly nullable?: boolean;
  readonly description?: string;
  readonly default?: unknown;
}

interface MediaContent {
  readonly schema?: JsonSchema;
}

interface Operation {
  readonly parameters?: readonly {
    readonly name: string;
    readonly in: string;
    readonly required?: boolean;
    readonly schema?: JsonSchema;
    readonly description?: string;
  }[];
  readonly requestBody?: { readonly content?: Readonly<Record<string, MediaContent>> };
  readonly responses?: Readonly<
    Record<
      string,
      { readonly description?: string; readonly content?: Readonly<Record<string, MediaContent>> }
    >
  >;
}

export interface OpenApiDocument {
  readonly paths?: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, JsonSchema>> };
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');

/** `#/components/schemas/def-0` → `Def0`; a name that would start with a digit gets a `Schema` prefix. */
export function refName(ref: string): string {
  const prefix = '#/components/schemas/';
  if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref "${ref}": only ${prefix}… is translated`);
  const name = pascal(decodeURIComponent(ref.slice(prefix.length)).replace(/~1/g, '/').replace(/~0/g, '~'));
  return /^[A-Za-z]/.test(name) ? name : `Schema${name}`;
}

/**
 * The base name of an operation's types: the method, then the path's fixed segments after `/v1`, then
 * `By<Param>` when the path ends in a parameter (`PUT /v1/users/{id}` → `PutUsersById`). Paths outside
 * `/v1` (health, Prometheus metrics, the reference) start with `Root`: `/metrics` and `/v1/metrics` both exist.
 */
export function operationName(method: string, path: string): string {
  const versioned = path === '/v1' || path.startsWith('/v1/');
  const segments = path.split('/').filter((s) => s !== '');
  if (versioned) segments.shift();
  else segments.unshift('root');
  const words = segments.map((segment, i) => {
    const param = /^\{(.+)\}$/.exec(segment) ?? /^:(.+)$/.exec(segment);
    if (param === null) return pascal(segment);
    return i === segments.length - 1 ? `By${pascal(param[1]!)}` : '';
  });
  return pascal(method) + words.join('');
}

const EMPTY_OBJECT = 'Record<string, never>';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const propertyKey = (name: string): string => (IDENTIFIER.test(name) ? name : JSON.stringify(name));

function docComment(text: string | undefined, indent: string): string {
  if (text === undefined || text.trim() === '') return '';
  const lines = text.trim().replace(/\*\//g, '*\\/').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

const literal = (value: unknown): string => (value === null ? 'null' : JSON.stringify(value));

const union = (parts: readonly string[]): string => {
  const unique = [...new Set(parts)];
  if (unique.includes('unknown')) return 'unknown';
  return unique.length === 0 ? 'never' : unique.join(' | ');
};

/** Whether a type expression has a `|` or `&` outside any braces, brackets or parentheses. */
function hasTopLevelOperator(type: string): boolean {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < type.length; i++) {
    const c = type[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth--;
    else if (depth === 0 && (c === '|' || c === '&')) return true;
  }
  return false;
}

/** Parenthesises a union or intersection where it would bind wrongly (`(A | B)[]`). */
const grouped = (type: string): string => (hasTopLevelOperator(type) ? `(${type})` : type);

/** One schema as a TypeScript type expression. */
export function schemaToType(schema: JsonSchema | boolean | undefined, indent = ''): string {
  if (schema === undefined || schema === true) return 'unknown';
  if (schema === false) return 'never';
  const base = baseType(schema, indent);
  return schema.nullable === true && base !== 'unknown' && !base.endsWith(' | null') && base !== 'null'
    ? `${base} | null`
    : base;
}

function baseType(schema: JsonSchema, indent: string): string {
  if (schema.$ref !== undefined) return refName(schema.$ref);
  if (schema.const !== undefined) return literal(schema.const);
  if (schema.enum !== undefined) return union(schema.enum.map(literal));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return union(alternatives.map((s) => schemaToType(s, indent)));
  if (schema.allOf !== undefined) {
    const parts = schema.allOf.map((s) => grouped(schemaToType(s, indent)));
    return parts.length === 1 ? parts[0]! : parts.join(' & ');
  }
  const types = schema.type === undefined ? inferTypes(schema) : [schema.type].flat();
  if (types.length === 0) return 'unknown';
  return union(types.map((type) => typeNamed(type, schema, indent)));
}

/** A schema without `type` that still says what it is (properties → object, items → array). */
function inferTypes(schema: JsonSchema): string[] {
  if (schema.properties !== undefined || schema.additionalProperties !== undefined) return ['object'];
  if (schema.items !== undefined || schema.prefixItems !== undefined) return ['array'];
  return [];
}

function typeNamed(type: string, schema: JsonSchema, indent: string): string {
  switch (type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return arrayType(schema, indent);
    case 'object':
      return objectType(schema, indent);
    default:
      throw new Error(`unsupported JSON Schema type "${type}"`);
  }
}

function arrayType(schema: JsonSchema, indent: string): string {
  const tuple = schema.prefixItems ?? (Array.isArray(schema.items) ? (schema.items as JsonSchema[]) : null);
  if (tuple !== null) return `[${tuple.map((s) => schemaToType(s, indent)).join(', ')}]`;
  return `${grouped(schemaToType(schema.items as JsonSchema | undefined, indent))}[]`;
}

function objectType(schema: JsonSchema, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(schema.required ?? []);
  const lines: string[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const optional = required.has(name) ? '' : '?';
    lines.push(
      `${docComment(property.description, inner)}${inner}${propertyKey(name)}${optional}: ${schemaToType(property, inner)};`,
    );
  }
  // Extra keys: the declared additional and pattern property types; an object declaring nothing at all is
  // open. An object with named properties and no `additionalProperties` keeps only its names, which is
  // what its replies hold and what a reader of the type wants to see.
  const extras: string[] = [];
  const additional = schema.additionalProperties;
  if (additional !== undefined && additional !== false) extras.push(schemaToType(additional, inner));
  for (const pattern of Object.values(schema.patternProperties ?? {}))
    extras.push(schemaToType(pattern, inner));
  if (additional === undefined && schema.properties === undefined && extras.length === 0)
    extras.push('unknown');
  if (extras.length > 0) {
    // An index signature must admit every named property's type too.
    const named = lines.length > 0 && !extras.includes('unknown') ? ['unknown'] : [];
    lines.push(`${inner}[key: string]: ${union([...extras, ...named])};`);
  }
  // Not `{}`, which TypeScript reads as "any non-null value".
  return lines.length === 0 ? EMPTY_OBJECT : `{\n${lines.join('\n')}\n${indent}}`;
}

/** A JSON reply or body schema: `application/json` first, else the first content type with a schema. */
function jsonSchemaOf(content: Readonly<Record<string, MediaContent>> | undefined): JsonSchema | undefined {
  if (content === undefined) return undefined;
  return content['application/json']?.schema ?? Object.values(content).find((c) => c.schema)?.schema;
}

/** The lowest 2xx status that has a JSON reply. */
function replySchema(operation: Operation): { status: string; schema: JsonSchema } | null {
  const statuses = Object.keys(operation.responses ?? {})
    .filter((status) => /^2\d\d$/.test(status))
    .sort();
  for (const status of statuses) {
    const schema = jsonSchemaOf(operation.responses?.[status]?.content);
    if (schema !== undefined) return { status, schema };
  }
  return null;
}

/**
 * A request schema as a sender sees it: a property with a `default` may be left out (the server fills it
 * in), though the schema lists it as required.
 */
export function asInput(schema: JsonSchema): JsonSchema {
  const map = (list: readonly JsonSchema[] | undefined) => list?.map(asInput);
  const properties =
    schema.properties &&
    Object.fromEntries(Object.entries(schema.properties).map(([name, s]) => [name, asInput(s)]));
  const required = schema.required?.filter((name) => schema.properties?.[name]?.default === undefined);
  const items = Array.isArray(schema.items) ? map(schema.items as JsonSchema[]) : schema.items;
  return {
    ...schema,
    ...(properties ? { properties } : {}),
    ...(required ? { required } : {}),
    ...(items ? { items: items as JsonSchema } : {}),
    ...(schema.anyOf ? { anyOf: map(schema.anyOf) } : {}),
    ...(schema.oneOf ? { oneOf: map(schema.oneOf) } : {}),
    ...(schema.allOf ? { allOf: map(schema.allOf) } : {}),
  };
}

function queryType(operation: Operation): string | null {
  const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
  if (query.length === 0) return null;
  const lines = query.map((p) => {
    const optional = p.required !== true || p.schema?.default !== undefined ? '?' : '';
    const comment = docComment(p.description ?? p.schema?.description, '  ');
    return `${comment}  ${propertyKey(p.name)}${optional}: ${schemaToType(p.schema, '  ')};`;
  });
  return `{\n${lines.join('\n')}\n}`;
}

/** Code-unit order, the same on every machine (localeCompare depends on the locale). */
const byKey = ([a]: readonly [string, unknown], [b]: readonly [string, unknown]): number =>
  a < b ? -1 : a > b ? 1 : 0;

const declaration = (name: string, type: string, comment: string): string =>
  `${docComment(comment, '')}export type ${name} = ${type};\n`;

/** The generated module's text, before formatting. */
export function generateTypesSource(spec: OpenApiDocument, source = 'docs/openapi.json'): string {
  const out: string[] = [
    `// Generated by scripts/sdk-types.ts from ${source}: do not edit. Run \`npm run sdk:types\` after changing a route schema.\n`,
  ];
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {}).sort(byKey)) {
    out.push(
      declaration(refName(`#/components/schemas/${name}`), schemaToType(schema), schema.description ?? ''),
    );
  }
  const operations: string[] = [];
  const taken = new Map<string, string>();
  const paths = Object.entries(spec.paths ?? {}).sort(byKey);
  for (const [path, item] of paths) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const name = operationName(method, path);
      const clash = taken.get(name);
      if (clash !== undefined) throw new Error(`"${key}" and "${clash}" would both be named ${name}`);
      taken.set(name, key);
      const members: string[] = [];
      const query = queryType(operation);
      if (query !== null) {
        out.push(declaration(`${name}Query`, query, `The query of \`${key}\`.`));
        members.push(`query: ${name}Query;`);
      }
      const body = jsonSchemaOf(operation.requestBody?.content);
      if (body !== undefined) {
        out.push(declaration(`${name}Body`, schemaToType(asInput(body)), `The body of \`${key}\`.`));
        members.push(`body: ${name}Body;`);
      }
      const reply = replySchema(operation);
      if (reply !== null) {
        out.push(
          declaration(`${name}Reply`, schemaToType(reply.schema), `The ${reply.status} reply of \`${key}\`.`),
        );
        members.push(`reply: ${name}Reply;`);
      }
      operations.push(
        `  ${JSON.stringify(key)}: ${members.length === 0 ? EMPTY_OBJECT : `{ ${members.join(' ')} }`};`,
      );
    }
  }
  out.push(
    `/** Every operation by method and path: its query, body and reply types where it has them. */\nexport interface ApiOperations {\n${operations.join('\n')}\n}\n`,
  );
  return out.join('\n');
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SPEC = join(ROOT, 'docs/openapi.json');
export const DEFAULT_OUTPUT = join(ROOT, 'packages/sdk/src/generated/api.ts');

/** The generated module's text, formatted as prettier formats the output file. */
export async function generateTypes(spec: OpenApiDocument, source?: string): Promise<string> {
  const options = (await resolveConfig(DEFAULT_OUTPUT)) ?? {};
  return format(generateTypesSource(spec, source), { ...options, parser: 'typescript' });
}

export async function readSpec(path: string): Promise<OpenApiDocument> {
  return JSON.parse(await readFile(path, 'utf8')) as OpenApiDocument;
}

async function main(): Promise<void> {
  const specPath = resolve(process.argv[2] ?? DEFAULT_SPEC);
  const outPath = resolve(process.argv[3] ?? DEFAULT_OUTPUT);
  const source = specPath.startsWith(`${ROOT}/`) ? specPath.slice(ROOT.length + 1) : specPath;
  const text = await generateTypes(await readSpec(specPath), source);
  await writeFile(outPath, text);
  console.log(`wrote ${outPath} from ${source}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
