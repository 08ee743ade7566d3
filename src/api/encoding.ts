import { isUtf8 } from 'node:buffer';

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ILL_FORMED, isWellFormed } from '../events/index.js';
import { errorBody, handleError } from './errors.js';
import { PATH_PARAMS, pathParamNames } from './url-params.js';

/**
 * Bytes to text, strictly. Node and Fastify decode bodies and URLs leniently (invalid UTF-8 becomes
 * U+FFFD, an undecodable query value stays percent-encoded), which stores a different id than was sent
 * and leaves it unreachable. Here every such input is a 400 that says what was wrong and where.
 */

/** The body's bytes are not UTF-8; answered as a 400 by the error handler (`statusCode`). */
export class BodyNotUtf8Error extends Error {
  readonly statusCode = 400;
  constructor() {
    super('the body is not valid UTF-8; JSON bodies must be encoded as UTF-8');
    this.name = 'BodyNotUtf8Error';
  }
}

/**
 * The body is JSON, but holds a `__proto__` key, or a `constructor` key whose object holds `prototype`:
 * Fastify refuses those (prototype poisoning) as "not valid JSON", which sends the client looking for a
 * syntax error. Answered as a 400 by the error handler (`statusCode`), naming the key.
 */
export class BodyPrototypeKeyError extends Error {
  readonly statusCode = 400;
  constructor(key: '__proto__' | 'constructor.prototype') {
    super(
      key === '__proto__'
        ? 'the body has a "__proto__" key, which is refused: it could set the prototype of objects'
        : 'the body has a "constructor" key holding "prototype", which is refused: it could reach the ' +
            'prototype of objects',
    );
    this.name = 'BodyPrototypeKeyError';
  }
}

/** Which prototype key valid JSON text holds, or null when it is not valid JSON. */
function prototypeKeyOf(text: string): '__proto__' | 'constructor.prototype' | null {
  let found: '__proto__' | 'constructor.prototype' | null = null;
  try {
    // JSON.parse makes `__proto__` an own property (it never sets a prototype), so reading it is safe.
    // secure-json-parse skips a byte order mark; JSON.parse does not.
    const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    JSON.parse(json, (key: string, value: unknown) => {
      if (key === '__proto__') found = '__proto__';
      else if (
        key === 'constructor' &&
        found === null &&
        typeof value === 'object' &&
        value !== null &&
        Object.hasOwn(value, 'prototype')
      ) {
        found = 'constructor.prototype';
      }
      return value;
    });
  } catch {
    return null;
  }
  return found;
}

/** The deepest nesting of arrays and objects a JSON body may have: events are 3 deep, definitions under 10. */
export const MAX_JSON_DEPTH = 32;

/** The body nests deeper than `MAX_JSON_DEPTH`; answered as a 400 by the error handler (`statusCode`). */
export class BodyTooDeepError extends Error {
  readonly statusCode = 400;
  constructor() {
    super(`the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
    this.name = 'BodyTooDeepError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests deeper than `max`, read from its bytes before parsing: a hostile body of a million
 * `[` would otherwise cost the parser, and every walker after it, a recursion that deep. Brackets inside
 * strings do not count. Malformed JSON is left to the parser to refuse.
 */
export function jsonDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

/**
 * Replaces Fastify's JSON body parser with one that refuses bytes that are not UTF-8, and bodies nested
 * deeper than `MAX_JSON_DEPTH`, and otherwise parses
 * exactly as before (same prototype-poisoning rules, same errors for empty and malformed JSON). The body
 * size limit is enforced while reading, before this runs. Media type parameters such as
 * `charset=utf-8` are matched as before: Fastify compares the media type only.
 */
export function useUtf8JsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser(
    app.initialConfig.onProtoPoisoning ?? 'error',
    app.initialConfig.onConstructorPoisoning ?? 'error',
  );
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) {
      done(new BodyNotUtf8Error(), undefined);
      return;
    }
    if (jsonDeeperThan(body, MAX_JSON_DEPTH)) {
      done(new BodyTooDeepError(), undefined);
      return;
    }
    const text = body.toString('utf8');
    parseJson(request, text, (error, value) => {
      // Valid JSON the parser refused holds a prototype key: say so, rather than "not valid JSON".
      const key = error === null ? null : prototypeKeyOf(text);
      if (key !== null) done(new BodyPrototypeKeyError(key), undefined);
      else done(error, value);
    });
  });
}

// Why a percent-encoded component is refused; each completes a sentence that starts with its name.
const MALFORMED_PERCENT = 'has a "%" not followed by two hex digits; send a literal "%" as %25';
const NOT_UTF8 =
  'is not valid UTF-8 once percent-decoded; percent-encode the UTF-8 bytes of the text ' +
  '(as encodeURIComponent does)';

/** Why a URL component's percent-encoding is refused, or null when it decodes to well-formed text. */
export function percentEncodingProblem(raw: string): string | null {
  if (!raw.includes('%')) return null;
  try {
    // decodeURIComponent is strict where the router's and query parser's decoders are lenient: it throws
    // on invalid UTF-8, encoded surrogates and overlong forms, and on a "%" without two hex digits.
    decodeURIComponent(raw);
    return null;
  } catch {
    return /%(?![0-9A-Fa-f]{2})/.test(raw) ? MALFORMED_PERCENT : NOT_UTF8;
  }
}

/** Where the router splits a request target into path and query: the first `?` or `#`. */
function queryStart(url: string): number {
  const question = url.indexOf('?');
  const hash = url.indexOf('#');
  if (question === -1) return hash;
  return hash === -1 ? question : Math.min(question, hash);
}

/** Why a request target's query string is refused, naming the parameter, or null. */
export function queryEncodingProblem(url: string): string | null {
  const start = queryStart(url);
  if (start === -1 || !url.includes('%', start)) return null;
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const nameProblem = percentEncodingProblem(rawName);
    if (nameProblem !== null) return `query parameter name ${JSON.stringify(rawName)} ${nameProblem}`;
    if (equals === -1) continue;
    const valueProblem = percentEncodingProblem(pair.slice(equals + 1));
    if (valueProblem !== null) {
      const name = decodeURIComponent(rawName.replaceAll('+', ' '));
      return `query field ${JSON.stringify(name)} ${valueProblem}`;
    }
  }
  return null;
}

/** An `onRequest` hook: refuses a query string that does not percent-decode to UTF-8, with a 400. */
export async function checkQueryEncoding(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const problem = queryEncodingProblem(request.raw.url ?? '');
  if (problem !== null) return reply.status(400).send(errorBody('invalid_request', problem));
  return undefined;
}

/**
 * Route patterns with path parameters, collected as routes register, so that a path the router refuses
 * before any route runs (undecodable, or longer than its limit) is answered naming the parameter.
 */
export class PathPatterns {
  private readonly patterns: { readonly method: string; readonly segments: readonly string[] }[] = [];

  add(methods: string | readonly string[], url: string): void {
    if (pathParamNames(url).length === 0) return;
    for (const method of typeof methods === 'string' ? [methods] : methods) {
      this.patterns.push({ method, segments: url.split('/') });
    }
  }

  /** The parameter of the first route of `method` that fits `path` and whose segment `isBad` picks. */
  find(method: string, path: string, isBad: (segment: string) => boolean): string | null {
    const segments = path.split('/');
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const pattern of this.patterns) {
      if (pattern.method !== wanted || pattern.segments.length !== segments.length) continue;
      const fits = pattern.segments.every((part, i) => part.startsWith(':') || part === segments[i]);
      if (!fits) continue;
      const at = pattern.segments.findIndex((part, i) => part.startsWith(':') && isBad(segments[i]!));
      if (at !== -1) return pattern.segments[at]!.slice(1);
    }
    return null;
  }
}

/** The segment's length as the router counts it (decoded), or its raw length when it does not decode. */
function decodedLength(segment: string): number {
  try {
    return decodeURIComponent(segment).length;
  } catch {
    return segment.length;
  }
}

/**
 * Fastify's `frameworkErrors`: answers the router's own refusals in the API's error shape (they would
 * otherwise bypass the error handler), as 400s naming the path parameter when a route fits the path.
 */
export function routerErrorHandler(
  patterns: PathPatterns,
  maxParamLength: number,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const url = request.raw.url ?? '';
    const start = queryStart(url);
    const path = start === -1 ? url : url.slice(0, start);
    const method = request.raw.method ?? 'GET';
    if (error.code === 'FST_ERR_BAD_URL') {
      const name = patterns.find(method, path, (segment) => percentEncodingProblem(segment) !== null);
      const segment = path.split('/').find((s) => percentEncodingProblem(s) !== null) ?? path;
      const problem = percentEncodingProblem(segment) ?? NOT_UTF8;
      const message = name === null ? `the path ${problem}` : `params field "${name}" ${problem}`;
      void reply.status(400).send(errorBody('invalid_request', message));
      return;
    }
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      const name = patterns.find(method, path, (segment) => decodedLength(segment) > maxParamLength);
      const rule = name === null ? undefined : PATH_PARAMS[name];
      const message =
        name === null || rule === undefined
          ? `a path segment is longer than ${maxParamLength} characters`
          : `params field "${name}": ${name} is longer than ${rule.maxLength} characters`;
      void reply.status(400).send(errorBody('invalid_request', message));
      return;
    }
    handleError(error, request, reply);
  };
}

/**
 * The path (`boost[0]`, `attributes.color`) of the first value or object key in a parsed JSON value that
 * `bad` refuses, or null ('' for the value itself). Every query and JSON body passes through here twice,
 * so the walk builds no path text unless it finds something: the steps are collected on the way back out.
 */
function firstPath(value: unknown, bad: (value: unknown) => boolean): string | null {
  const steps: (string | number)[] = [];
  if (!findBad(value, bad, steps)) return null;
  let path = '';
  for (let k = steps.length - 1; k >= 0; k--) {
    const step = steps[k]!;
    path += typeof step === 'number' ? `[${step}]` : path === '' ? step : `.${step}`;
  }
  return path;
}

/** Whether `value` holds something `bad` refuses; `steps` gets its path, innermost step first. */
function findBad(value: unknown, bad: (value: unknown) => boolean, steps: (string | number)[]): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (findBad(value[i], bad, steps)) {
        steps.push(i);
        return true;
      }
    }
    return false;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    // for…in allocates no key array (Object.keys here was ~3% of a decision's allocations); parsed JSON
    // and query objects have no enumerable properties but their own.
    for (const key in record) {
      if (bad(key) || findBad(record[key], bad, steps)) {
        steps.push(key);
        return true;
      }
    }
    return false;
  }
  return bad(value);
}

const illFormed = (value: unknown): boolean => typeof value === 'string' && !isWellFormed(value);
const nonFinite = (value: unknown): boolean => typeof value === 'number' && !Number.isFinite(value);

/**
 * The path of the first string or object key in a parsed JSON value that is not well-formed Unicode, or
 * null. For bodies checked by a schema rather than by the hand-written readers (which check each field
 * themselves).
 */
export const illFormedPath = (value: unknown): string | null => firstPath(value, illFormed);

/**
 * The path of the first number in a parsed value that is not finite, or null. JSON.parse reads `1e400` as
 * Infinity, and the schema's coercion reads the text `Infinity` or `1e400` of a numeric field so, past every
 * bound the schema sets (Ajv checks bounds on finite numbers only); as JSON it would become null.
 */
export const nonFinitePath = (value: unknown): string | null => firstPath(value, nonFinite);

/**
 * Routes whose bodies the readers of `events/` and `catalog/` check field by field: they refuse these values
 * themselves, per element of a batch, so that one bad event does not cost the others.
 */
const READ_FIELD_BY_FIELD = new Set([
  'POST /v1/events',
  'POST /v1/items',
  'PUT /v1/items/:id',
  'PUT /v1/users/:id',
]);

const unfit = (value: unknown): boolean => illFormed(value) || nonFinite(value);

/** Why a parsed query or body cannot be taken as sent (naming the field), or null. */
export function parsedValueProblem(where: 'query' | 'body', value: unknown): string | null {
  // One walk for the common case, a value with neither; the two named walks only to say which it holds.
  if (!findBad(value, unfit, [])) return null;
  const text = illFormedPath(value);
  if (text !== null) return `${where} field "${text}" ${ILL_FORMED}`;
  const number = nonFinitePath(value);
  if (number !== null) return `${where} field "${number}" must be a finite number`;
  return null;
}

/**
 * A hook for before and after schema validation: refuses a query or body holding a string that is not
 * well-formed Unicode (it would be stored or looked up as U+FFFD) or a number that is not finite, with a 400
 * naming the field.
 */
export async function checkParsedValues(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  const problem =
    parsedValueProblem('query', request.query) ??
    (READ_FIELD_BY_FIELD.has(route) ? null : parsedValueProblem('body', request.body));
  if (problem !== null) return reply.status(400).send(errorBody('invalid_request', problem));
  return undefined;
}
