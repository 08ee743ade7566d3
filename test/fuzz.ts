/**
 * Fuzzing every endpoint (issue 12): fast-check arbitraries for random and hostile requests, and a runner
 * that sends them through `app.inject` and checks what must hold whatever a client sends:
 *
 * - the server never answers 5xx, never throws an uncaught exception and leaves no unhandled rejection;
 * - every 4xx carries `{"error": {"code", "message"}}` (a batch of events or items: its per-element
 *   `errors`), and the message names the problem: for a request known to be hostile, a word the runner
 *   expects (the field at fault, `__proto__`, `UTF-8`, …), for any other, something the request named;
 * - a 2xx answers only requests that were valid: one known to be hostile must be refused;
 * - nothing invalid is stored: after the run every event, item, user, experiment, decision point, metric,
 *   preset, key, impression and decision in the store holds only well-formed strings and finite numbers,
 *   every object's prototype is `Object.prototype` (or null) and no `__proto__` key was kept, and
 *   `Object.prototype` gained nothing;
 * - valid data sent beside hostile data is intact: each batch of `POST /v1/events` and `POST /v1/items`
 *   may carry a known-valid canary, which must be stored exactly (read back through the API) when the
 *   batch was answered 200, and not at all when the whole body was refused.
 *
 * Shared by `test/fuzz.test.ts` (a reduced count, in `npm test`) and `bench/fuzz.ts` (the full size). Not
 * a test file: it imports nothing from vitest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';

import { ROUTE_ACCESS } from '../src/api/access.js';
import { buildApp } from '../src/api/index.js';
import type { HttpLimits } from '../src/api/limits.js';
import { Engine, engineConfig } from '../src/engine/index.js';
import { isWellFormed, MAX_ID_LENGTH } from '../src/events/index.js';
import { presetsFor } from '../src/recommendations/index.js';

// --- the app under test ---------------------------------------------------------------------------------

export interface FuzzTarget {
  readonly app: FastifyInstance;
  readonly engine: Engine;
  /** Sent with every request: an admin key. */
  readonly headers: Readonly<Record<string, string>>;
  /** The errors the app logged since the last call (a 5xx's cause: message and stack), oldest first. */
  takeLoggedErrors(): string[];
  /** The errors the engine's background work logged (by the first line of their message), and how often. */
  backgroundErrors(): Record<string, number>;
  close(): Promise<void>;
}

/** Rate limits far above what the runner sends: it measures validation, not the limiter. */
const UNLIMITED: HttpLimits = {
  corsOrigins: [],
  requestsPerSecond: { ingest: 1e9, server: 1e9, admin: 1e9 },
  requestTimeoutMs: 10_000,
};

interface LogEntry {
  readonly msg?: string;
  readonly err?: { readonly message?: string; readonly stack?: string };
}

/** A pino destination handing each JSON line to `take`. */
function errorLog(take: (entry: LogEntry) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      take(JSON.parse(chunk.toString('utf8')) as LogEntry);
      done();
    },
  });
}

/**
 * An engine on a fresh SQLite store in a temp dir (fixed ALS, no schedule), the real app on it, and an admin
 * key: requests carry a key, as deployed (the keyless loopback mode would close as soon as the fuzzer
 * creates its first key through `POST /v1/keys`).
 */
export async function openFuzzTarget(): Promise<FuzzTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'attune-fuzz-'));
  // Errors are logged into memory, not onto stderr: the app's (what a 5xx was) and the engine's background
  // work (a training run a request started, which an erasure may overtake by design).
  const logged: string[] = [];
  const background = new Map<string, number>();
  const engine = await Engine.open(
    engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, selection: 'fixed' }),
    undefined,
    {
      logger: pino(
        { level: 'error' },
        errorLog((entry) => {
          const what = `${entry.msg ?? ''}: ${entry.err?.message ?? ''}`
            .split('\n')[0]!
            .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
            .slice(0, 300);
          background.set(what, (background.get(what) ?? 0) + 1);
        }),
      ),
    },
  );
  const stream = errorLog((entry) => {
    logged.push(`${entry.msg ?? ''}: ${entry.err?.stack ?? ''}`.slice(0, 2000));
    if (logged.length > 100) logged.shift();
  });
  // Every 2xx reply is checked against its route's schema too (api/openapi.ts): a mismatch is a 500.
  const app = buildApp({
    engine,
    limits: UNLIMITED,
    logger: { level: 'error', stream },
    validateReplies: true,
  });
  await app.ready();
  const { key } = await engine.access.create({ scope: 'admin', name: 'fuzz' });
  return {
    app,
    engine,
    headers: { authorization: `Bearer ${key}` },
    takeLoggedErrors: () => logged.splice(0),
    backgroundErrors: () => Object.fromEntries(background),
    async close() {
      // A run `POST /v1/admin/train` started may still be in its worker: let it end rather than have it fail
      // on a closed store.
      for (let waited = 0; engine.trainingState.state !== 'idle' && waited < 120_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await app.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// --- markers: what JSON.stringify cannot write ---------------------------------------------------------

// A marker is a string the serializer replaces: with a raw number (`1e400`), a `__proto__` key, or an id
// known only at send time (a decision id, a key id). Private-use characters keep markers apart from data.
const OPEN = '\ue000';
const CLOSE = '\ue001';
const marker = (text: string): string => `${OPEN}${text}${CLOSE}`;
const isMarker = (value: string): boolean => value.startsWith(OPEN);
const MARKER_TEXT = /"\ue000([a-z-]+):([^\ue001"]*)\ue001"/g;

/** A JSON number that JSON.parse reads as ±Infinity, as a marker. */
const hugeNumber = fc
  .constantFrom('1e400', '-1e400', '1e309', '-2e308', '123e99999')
  .map((text) => marker(`num:${text}`));
const PROTO_KEY = marker('key:__proto__');
const PROTO_ESCAPED_KEY = marker('key:\\u005f_proto__');

// --- pools: the ids requests name, known before the run or learnt from replies --------------------------

type PoolName =
  'users' | 'items' | 'experiments' | 'points' | 'presets' | 'metrics' | 'requests' | 'decisions' | 'keys';

const range = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

const STATIC_POOLS: Readonly<Record<PoolName, readonly string[]>> = {
  users: [...range('fz-u-', 16), '42', 'Zoë ☃', '𝔘ser/1?x=#'],
  items: [...range('fz-i-', 16), '7', 'Ítem %2F', 'i:𝟘'],
  experiments: range('fz-exp-', 6),
  points: range('fz-dp-', 4),
  presets: range('fz-preset-', 4),
  metrics: range('fz_m_', 4),
  requests: range('fz-req-', 8),
  decisions: ['no-such-decision'],
  keys: ['0123456789abcdef'],
};

const poolRef = (pool: PoolName): fc.Arbitrary<string> =>
  fc.nat(1000).map((n) => marker(`pool-${pool}:${n}`));

class Pools {
  readonly #values = new Map<PoolName, string[]>();
  constructor() {
    for (const [name, values] of Object.entries(STATIC_POOLS))
      this.#values.set(name as PoolName, [...values]);
  }
  pick(pool: PoolName, n: number): string {
    const values = this.#values.get(pool)!;
    return values[n % values.length]!;
  }
  /** Learns an id from a reply (decisions, keys); keeps the newest 64. */
  learn(pool: PoolName, value: string): void {
    const values = this.#values.get(pool)!;
    if (values.includes(value)) return;
    values.push(value);
    if (values.length > 64) values.splice(1, 1);
  }
  all(pool: PoolName): readonly string[] {
    return this.#values.get(pool)!;
  }
}

/** A JSON value as request text: markers replaced (pool ids resolved now). */
function serialize(value: unknown, pools: Pools): string {
  return JSON.stringify(value).replace(MARKER_TEXT, (match, kind: string, text: string) => {
    if (kind === 'num') return text;
    // JSON.stringify doubled the marker's backslashes (`\\u005f`): the key is sent with one.
    if (kind === 'key') return `"${text.replaceAll('\\\\', '\\')}"`;
    if (!kind.startsWith('pool-')) return match;
    return JSON.stringify(pools.pick(kind.slice('pool-'.length) as PoolName, Number(text)));
  });
}

/** A URL component: markers resolved and percent-encoded; anything else is sent as generated. */
function urlPart(value: string, pools: Pools): string {
  const match = /^\ue000pool-([a-z]+):(\d+)\ue001$/.exec(value);
  return match ? encodeURIComponent(pools.pick(match[1] as PoolName, Number(match[2]))) : value;
}

// --- hostile strings ------------------------------------------------------------------------------------

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00'];

/** Well-formed text of every kind: any code point, controls, bidi and zero-width marks, URL syntax. */
const anyText = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '\u0000',
        '\u202e\u2066evil',
        'a\u200bb',
        '../../etc/passwd',
        "'; DROP TABLE events; --",
        '{{constructor.constructor("x")()}}',
        '%00%ff',
        '\\u0000',
        '\r\n\r\nHTTP/1.1 200',
        '🤷🏽‍♀️',
        '\ufeff',
        '\uffff',
        'ˆ\u0301\u0301\u0301',
      ),
    },
  );

/**
 * Inserts a lone surrogate into a string (never a marker). Ill-formed wherever it goes: beside a pair it
 * stays alone, and between a pair's halves it leaves one of them alone.
 */
function withLoneSurrogate(text: string, at: number, which: number): string {
  const lone = LONE_SURROGATES[which % LONE_SURROGATES.length]!;
  const cut = text.length === 0 ? 0 : at % (text.length + 1);
  return `${text.slice(0, cut)}${lone}${text.slice(cut)}`;
}

const isAcceptedId = (id: string): boolean =>
  id.length >= 1 &&
  id.length <= MAX_ID_LENGTH &&
  /\S/.test(id) &&
  id !== '.' &&
  id !== '..' &&
  isWellFormed(id);

/** Keys of flat records: never `__proto__` (the parser refuses it: that is a separate hostile case). */
const recordKey = fc
  .oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'page',
        'device',
        'note',
        'n',
        'ok',
        'constructor',
        'toString',
        'prototype',
        'hasOwnProperty',
        'valueOf',
        'x y',
        '',
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  )
  .filter((key) => key !== '__proto__' && key !== 'request_id');

// --- shapes: what each body field takes, to make valid values and certainly wrong ones -----------------

type Shape =
  /** An id: a string or a safe integer; `pool` names existing ones. */
  | { readonly kind: 'id'; readonly pool?: PoolName; readonly max?: number }
  | {
      readonly kind: 'text';
      readonly valid: fc.Arbitrary<string>;
      readonly wrong: readonly unknown[];
      readonly max?: number;
    }
  /** Values of a route's own making (a context, a learner spec), with the wrong ones listed. */
  | { readonly kind: 'custom'; readonly valid: fc.Arbitrary<unknown>; readonly wrong: readonly unknown[] }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | {
      readonly kind: 'number';
      /** Valid values are drawn from [min, max]. */
      readonly min: number;
      readonly max: number;
      readonly integer?: boolean;
      /** What the route accepts; values outside are certainly wrong (null: any finite number). */
      readonly bounds: readonly [number, number] | null;
      readonly exclusiveMin?: boolean;
    }
  | { readonly kind: 'bool' }
  | { readonly kind: 'time' }
  /** A flat record of scalars (context, properties, traits, attributes). */
  | { readonly kind: 'record'; readonly nulls: boolean }
  /** Any JSON (a payload, a variant's config): nothing is certainly wrong but what cannot be stored. */
  | { readonly kind: 'json' }
  | {
      readonly kind: 'list';
      readonly of: Shape;
      readonly min: number;
      readonly max: number;
      readonly validMax?: number;
      /** Valid lists hold objects whose value at this key differs. */
      readonly distinct?: string;
    }
  | {
      readonly kind: 'object';
      readonly fields: Readonly<Record<string, Field>>;
      readonly closed: boolean;
      readonly wrong?: readonly unknown[];
    };

interface Field {
  readonly shape: Shape;
  readonly required?: boolean;
}

const id = (pool?: PoolName, max?: number): Shape => ({
  kind: 'id',
  ...(pool ? { pool } : {}),
  ...(max ? { max } : {}),
});
const text = (valid: fc.Arbitrary<string>, max?: number, wrong: readonly unknown[] = []): Shape => ({
  kind: 'text',
  valid,
  wrong,
  ...(max === undefined ? {} : { max }),
});
const custom = (valid: fc.Arbitrary<unknown>, wrong: readonly unknown[] = []): Shape => ({
  kind: 'custom',
  valid,
  wrong,
});
const oneOf = (...values: string[]): Shape => ({ kind: 'enum', values });
/** A number drawn from [min, max]; `bounds` (default the same) is what the route accepts. */
const num = (
  min: number,
  max: number,
  options: { integer?: boolean; exclusiveMin?: boolean; bounds?: readonly [number, number] | null } = {},
): Shape => ({
  kind: 'number',
  min,
  max,
  bounds: options.bounds === undefined ? [min, max] : options.bounds,
  ...(options.integer ? { integer: true } : {}),
  ...(options.exclusiveMin ? { exclusiveMin: true } : {}),
});
const bool: Shape = { kind: 'bool' };
const time: Shape = { kind: 'time' };
const record = (nulls = true): Shape => ({ kind: 'record', nulls });
const json: Shape = { kind: 'json' };
const list = (of: Shape, min: number, max: number, validMax?: number): Shape => ({
  kind: 'list',
  of,
  min,
  max,
  ...(validMax === undefined ? {} : { validMax }),
});
const object = (fields: Record<string, Shape | Field>, closed = true, wrong?: readonly unknown[]): Shape => ({
  kind: 'object',
  closed,
  fields: Object.fromEntries(
    Object.entries(fields).map(([name, f]) => [name, 'shape' in f ? f : { shape: f }]),
  ),
  ...(wrong ? { wrong } : {}),
});
const required = (shape: Shape): Field => ({ shape, required: true });

const DAY = 86_400_000;
const recentMs = () => fc.integer({ min: Date.now() - 30 * DAY, max: Date.now() - 1000 });

function scalarOf(nulls: boolean): fc.Arbitrary<unknown> {
  return fc.oneof(
    anyText(24),
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }),
    fc.boolean(),
    ...(nulls ? [fc.constant(null)] : []),
  );
}

function recordOf(values: fc.Arbitrary<unknown>, maxKeys = 5): fc.Arbitrary<Record<string, unknown>> {
  return fc.array(fc.tuple(recordKey, values), { maxLength: maxKeys }).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries) out[key] = value;
    return out;
  });
}

/** Any JSON, with safe keys, at most `depth` deep. */
const jsonValue = (depth: number): fc.Arbitrary<unknown> =>
  depth <= 0
    ? scalarOf(true)
    : fc.oneof(
        { weight: 3, arbitrary: scalarOf(true) },
        { weight: 1, arbitrary: fc.array(jsonValue(depth - 1), { maxLength: 4 }) },
        { weight: 1, arbitrary: recordOf(jsonValue(depth - 1), 4) },
      );

function validOf(shape: Shape): fc.Arbitrary<unknown> {
  switch (shape.kind) {
    case 'id': {
      const fresh = fc.oneof(
        { weight: 3, arbitrary: anyText(shape.max ?? 24).filter(isAcceptedId) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) },
      );
      return shape.pool
        ? fc.oneof({ weight: 3, arbitrary: poolRef(shape.pool) }, { weight: 1, arbitrary: fresh })
        : fresh;
    }
    case 'text':
    case 'custom':
      return shape.valid;
    case 'enum':
      return fc.constantFrom(...shape.values);
    case 'number':
      return shape.integer
        ? fc.integer({ min: shape.min, max: shape.max })
        : fc
            .double({ min: shape.min, max: shape.max, noNaN: true, noDefaultInfinity: true })
            .map((x) => (Object.is(x, -0) ? 0 : x))
            .filter((x) => !shape.exclusiveMin || x > shape.min);
    case 'bool':
      return fc.boolean();
    case 'time':
      return fc.oneof(
        recentMs(),
        recentMs().map((ms) => new Date(ms).toISOString()),
      );
    case 'record':
      return recordOf(scalarOf(shape.nulls));
    case 'json':
      return jsonValue(3);
    case 'list': {
      const constraints = { minLength: shape.min, maxLength: Math.min(shape.validMax ?? shape.max, 6) };
      const key = shape.distinct;
      return key === undefined
        ? fc.array(validOf(shape.of), constraints)
        : fc.uniqueArray(validOf(shape.of), {
            ...constraints,
            selector: (v) => (isObjectNode(v) ? v[key] : v),
          });
    }
    case 'object': {
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      const requiredKeys: string[] = [];
      for (const [name, field] of Object.entries(shape.fields)) {
        model[name] = validOf(field.shape);
        if (field.required) requiredKeys.push(name);
      }
      return fc.record(model, { requiredKeys });
    }
  }
}

/**
 * Values certainly refused where `shape` is expected. `coerced`: the route's body goes through Fastify's
 * schema validation, which coerces scalars (`"5"` → 5, `5` → `"5"`, `x` → `[x]`), so only values no
 * coercion turns valid are listed there.
 */
function wrongOf(shape: Shape, coerced: boolean): unknown[] {
  const structural: unknown[] = [{}, { a: 1 }, [1, 2], [{}, 'a']];
  switch (shape.kind) {
    case 'id':
      return [
        ...structural,
        '',
        ' ',
        '\t\n',
        '.',
        '..',
        'x'.repeat((shape.max ?? MAX_ID_LENGTH) + 1),
        'é'.repeat(5000),
        ...(coerced ? [] : [true, 1.5, 2 ** 53 + 2, -0.5]),
      ];
    case 'text':
      return [
        ...structural,
        ...(shape.max === undefined ? [] : ['y'.repeat(shape.max + 1)]),
        ...(coerced ? [] : [12, false]),
        ...shape.wrong,
      ];
    case 'custom':
      return [...shape.wrong];
    case 'enum':
      return [...structural, `not-${shape.values[0]}`, 'ADMIN', ...(coerced ? [] : [1, true])];
    case 'number': {
      const [lo, hi] = shape.bounds ?? [-Infinity, Infinity];
      return [
        ...structural,
        'abc',
        '',
        ...(shape.integer ? [1.5] : []),
        ...(Number.isFinite(lo) ? [shape.exclusiveMin ? lo : lo - 1] : []),
        ...(Number.isFinite(hi) ? [hi + 1] : []),
        // Fastify's coercion reads these strings as ±Infinity: still no finite number.
        ...(coerced ? ['1e400', '-Infinity'] : ['5', true]),
      ];
    }
    case 'bool':
      return [...structural, 'maybe', 2, ...(coerced ? [] : ['true', 1])];
    case 'time':
      return [
        ...structural,
        'yesterday',
        '2026-01-12T10:22:31',
        '1999-12-31T23:59:59Z',
        '2026-02-30T10:00:00Z',
        1_700_000_000,
        -5,
        8.64e15 + 1,
        ...(coerced ? [] : [true]),
      ];
    case 'record':
      return [
        'text',
        5,
        [1, 2],
        { a: { b: 1 } },
        { a: [1] },
        ...(shape.nulls ? [] : [{ a: null }]),
        ...(coerced ? [] : [true]),
      ];
    case 'json':
      return [];
    case 'list':
      return [
        { a: 1 },
        ...(coerced ? [] : ['text', 5]),
        ...(shape.max <= 1000 ? [Array.from({ length: shape.max + 1 }, (_, i) => `e${i}`)] : []),
      ];
    case 'object':
      return ['text', 5, [1, 2], ...(shape.closed ? [{ fz_unknown_field: 1 }] : []), ...(shape.wrong ?? [])];
  }
}

// --- requests -------------------------------------------------------------------------------------------

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What the runner may conclude from the reply. */
export type Expectation =
  /**
   * Hostile: must be answered 4xx, with a message holding one of `mention` (any case); with none listed, a
   * message naming anything the request sent.
   */
  | { readonly kind: 'refuse'; readonly why: string; readonly mention: readonly string[] }
  /** Valid, random or hostile in a way the route may accept: only the general invariants hold. */
  | { readonly kind: 'open' };

const OPEN_EXPECTATION: Expectation = { kind: 'open' };
const refuse = (why: string, mention: readonly string[]): Expectation => ({ kind: 'refuse', why, mention });

function both(a: Expectation, b: Expectation): Expectation {
  if (a.kind === 'open') return b;
  if (b.kind === 'open') return a;
  const anyWords = a.mention.length === 0 || b.mention.length === 0;
  return refuse(`${a.why}; ${b.why}`, anyWords ? [] : [...a.mention, ...b.mention]);
}

type Body =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string; readonly contentType: string }
  /** Valid JSON text with bytes that are not UTF-8 spliced in. */
  | {
      readonly kind: 'bytes';
      readonly value: unknown;
      readonly at: number;
      readonly bytes: readonly number[];
    }
  /** A string of `size` characters: built at send time, not kept by the sampler. */
  | { readonly kind: 'huge'; readonly size: number; readonly array: boolean };

/** Per element of a batch body: what it must come to. */
export interface BatchPlan {
  readonly kind: 'events' | 'items';
  /** Indices certainly invalid, with why and the words their error must hold. */
  readonly hostile: ReadonlyMap<number, { readonly why: string; readonly mention: readonly string[] }>;
  /** Indices certainly valid. */
  readonly valid: readonly number[];
  /** The index of the canary (valid, checked after the run), or -1. */
  readonly canary: number;
}

export interface FuzzRequest {
  readonly route: string;
  readonly method: Method;
  /** Path with raw segments and markers for pool ids. */
  readonly path: readonly string[];
  /** `name=value` pairs, already percent-encoded (markers resolved at send time). */
  readonly query: readonly (readonly [string, string])[];
  readonly body: Body | null;
  readonly expect: Expectation;
  /** For batch bodies whose top level is sound: each element's fate. */
  readonly batch?: BatchPlan;
}

// --- URL parts ------------------------------------------------------------------------------------------

/** Path segments the router or `url-params.ts` must refuse, naming the parameter. */
const hostileSegment = (name: string): fc.Arbitrary<readonly [string, Expectation]> => {
  const mention = [name, 'path', 'no route'];
  return fc
    .oneof(
      fc.constantFrom(
        '%',
        '%zz',
        '%FF',
        '%ED%A0%80',
        '%C0%AF',
        'a%E2%82',
        '%F4%90%80%80',
        '%20',
        '%09%0A',
        '.',
        '%2E',
        '%2e%2E',
        '',
      ),
      fc.integer({ min: MAX_ID_LENGTH + 1, max: 3000 }).map((n) => 'x'.repeat(n)),
      fc.integer({ min: MAX_ID_LENGTH + 1, max: 400 }).map((n) => '%E4%B8%AD'.repeat(n)),
      ...(name === 'name' ? [fc.constantFrom('a b', '%C3%BC', 'n'.repeat(65), 'a%2Fb', 'a*b')] : []),
    )
    .map((segment) => {
      const why = `path parameter ${name} ${JSON.stringify(segment.slice(0, 40))}`;
      // An empty or dot segment changes which route the path is (URLs resolve dot segments): still refused,
      // but by whichever route it became, in its own words.
      const moved = segment === '' || /^(\.|%2e)$/i.test(segment) || /^(%2e){2}$/i.test(segment);
      return [segment, refuse(why, moved ? [] : mention)] as const;
    });
};

/** Names of rule presets and metrics: `[A-Za-z0-9_.-]`, 1 to 64 characters. */
const presetName = fc.string({
  unit: fc.constantFrom(...'abcXYZ019_.-'),
  minLength: 1,
  maxLength: 64,
});

/** Names of metrics: `[a-z0-9_]`, not starting with `_`. */
const metricName = fc
  .string({ unit: fc.constantFrom(...'abcxyz019_'), minLength: 1, maxLength: 64 })
  .filter((s) => !s.startsWith('_'));

function segmentOf(name: string, pool: PoolName): fc.Arbitrary<readonly [string, Expectation]> {
  return fc.oneof(
    { weight: 6, arbitrary: poolRef(pool).map((v) => [v, OPEN_EXPECTATION] as const) },
    {
      weight: 2,
      arbitrary: (pool === 'metrics' ? metricName : name === 'name' ? presetName : anyText(30))
        .filter(isAcceptedId)
        .map((v) => [encodeURIComponent(v), OPEN_EXPECTATION] as const),
    },
    { weight: 2, arbitrary: hostileSegment(name) },
  );
}

type QuerySpec = Readonly<Record<string, Field>>;

/** A query value as text, from a shape's valid values (arrays repeat the parameter). */
function queryValues(shape: Shape): fc.Arbitrary<string[]> {
  if (shape.kind === 'list')
    return fc.array(validOf(shape.of), { minLength: 1, maxLength: 3 }).map((vs) => vs.map(String));
  return validOf(shape).map((v) => [String(v)]);
}

/** Query values certainly refused for a field. */
function wrongQueryValues(name: string, shape: Shape): fc.Arbitrary<readonly string[]> {
  const encodingProblems = fc.constantFrom('%', '%zz', '%FF', '%ED%A0%80', 'ok%C0%AF');
  const options: fc.Arbitrary<readonly string[]>[] = [encodingProblems.map((v) => [v])];
  if (shape.kind === 'number') {
    const [lo, hi] = shape.bounds ?? [-Infinity, Infinity];
    const bad = ['abc', '1e400', 'NaN', 'Infinity', '-Infinity', ...(shape.integer ? ['1.5'] : [])];
    if (Number.isFinite(lo)) bad.push(String(lo - 1));
    if (Number.isFinite(hi)) bad.push(String(hi + 1));
    options.push(fc.constantFrom(...bad).map((v) => [encodeURIComponent(v)]));
    options.push(fc.constant([String(shape.min), String(shape.min)]));
  } else if (shape.kind === 'bool') {
    options.push(fc.constantFrom('maybe', '2', 'yes please').map((v) => [encodeURIComponent(v)]));
    options.push(fc.constant(['true', 'false']));
  } else if (shape.kind === 'id') {
    options.push(
      fc
        .constantFrom('', '%20', '.', '..', 'x'.repeat(MAX_ID_LENGTH + 1), '%E4%B8%AD'.repeat(300))
        .map((v) => [v]),
    );
    options.push(fc.constant(['a', 'b']));
  } else if (shape.kind === 'text' || shape.kind === 'enum' || shape.kind === 'custom') {
    const wrong = wrongOf(shape, true).filter((v): v is string => typeof v === 'string');
    if (wrong.length > 0) options.push(fc.constantFrom(...wrong).map((v) => [encodeURIComponent(v)]));
    options.push(fc.constant(['a', 'b']));
  } else if (shape.kind === 'list' && shape.of.kind === 'text') {
    const wrong = shape.of.wrong.filter((v): v is string => typeof v === 'string');
    if (wrong.length > 0) options.push(fc.constantFrom(...wrong).map((v) => [encodeURIComponent(v)]));
  }
  return fc.oneof(...options);
}

/** Parameters no route declares, some named after what objects inherit. */
const junkQuery = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'hasOwnProperty',
        'toString',
        'prototype',
        '__proto__[polluted]',
        'a[b]',
      ),
      anyText(10),
    ),
    anyText(20),
  ),
  { maxLength: 3 },
);

function queryOf(
  spec: QuerySpec | undefined,
): fc.Arbitrary<readonly [readonly (readonly [string, string])[], Expectation]> {
  const fields = Object.entries(spec ?? {});
  const perField = fields.map(([name, field]) =>
    fc
      .oneof(
        { weight: field.required ? 0 : 3, arbitrary: fc.constant(null) },
        {
          weight: 8,
          arbitrary: queryValues(field.shape).map(
            (vs) => [vs.map((v) => (isMarker(v) ? v : encodeURIComponent(v))), OPEN_EXPECTATION] as const,
          ),
        },
        {
          weight: 2,
          arbitrary: wrongQueryValues(name, field.shape).map(
            (vs) => [vs, refuse(`query ${name}=${vs.join(',').slice(0, 40)}`, [name])] as const,
          ),
        },
        { weight: field.required ? 1 : 0, arbitrary: fc.constant('absent' as const) },
      )
      .map((choice): readonly [readonly (readonly [string, string])[], Expectation] => {
        if (choice === null) return [[], OPEN_EXPECTATION];
        if (choice === 'absent') return [[], refuse(`query ${name} missing`, [name])];
        const [values, expectation] = choice;
        return [values.map((v) => [name, v] as const), expectation];
      }),
  );
  return fc.tuple(fc.tuple(...perField), junkQuery).map(([parts, junk]) => {
    let expectation: Expectation = OPEN_EXPECTATION;
    const pairs: (readonly [string, string])[] = [];
    for (const [values, e] of parts) {
      pairs.push(...values);
      expectation = both(expectation, e);
    }
    for (const [k, v] of junk) pairs.push([encodeURIComponent(k), encodeURIComponent(v)]);
    return [pairs, expectation] as const;
  });
}

// --- body mutations -------------------------------------------------------------------------------------

type Path = readonly (string | number)[];

/** Names along a path: what a message about the value there may name. */
const namesOf = (path: Path): string[] =>
  path.filter((p): p is string => typeof p === 'string' && !isMarker(p));

/** Every place in a JSON value: objects, arrays and leaves, with their paths. */
function places(
  value: unknown,
  path: Path = [],
  out: { path: Path; value: unknown }[] = [],
): { path: Path; value: unknown }[] {
  out.push({ path, value });
  if (Array.isArray(value)) value.forEach((v, i) => places(v, [...path, i], out));
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) places(v, [...path, k], out);
  return out;
}

/** A copy of `value` with the value at `path` replaced by `replace(old)`. */
function replaceAt(value: unknown, path: Path, replace: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replace(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaceAt(v, rest, replace) : v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === head ? replaceAt(v, rest, replace) : v;
    // A field the value lacks is added.
    if (typeof head === 'string' && !Object.hasOwn(out, head))
      out[head] = replaceAt(undefined, rest, replace);
    return out;
  }
  return value;
}

/** A copy of the object at `path` with `key` renamed by `rename`. */
function renameKeyAt(value: unknown, path: Path, key: string, renamed: string): unknown {
  return replaceAt(value, path, (old) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(old as Record<string, unknown>)) out[k === key ? renamed : k] = v;
    return out;
  });
}

function addKeyAt(value: unknown, path: Path, key: string, added: unknown): unknown {
  return replaceAt(value, path, (old) => ({ ...(old as Record<string, unknown>), [key]: added }));
}

const isObjectNode = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nested arrays `depth` deep around a value. */
const nested = (depth: number, inner: unknown): unknown => {
  let v = inner;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { d: v };
  return v;
};

const depthOf = (path: Path): number => path.length;

interface Mutated {
  readonly value: unknown;
  readonly expect: Expectation;
}

/**
 * Hostile changes that hold whatever the route: a lone surrogate in a string or a key, a number JSON.parse
 * reads as Infinity, a `__proto__` or `constructor.prototype` key, nesting past the parser's limit. Each is
 * refused; keys named after inherited members (`constructor`, `toString`) are only open.
 */
function genericMutation(value: unknown): fc.Arbitrary<Mutated> {
  const all = places(value);
  const strings = all.filter((p) => typeof p.value === 'string' && !isMarker(p.value));
  const leaves = all.filter((p) => p.path.length > 0 && (typeof p.value !== 'object' || p.value === null));
  const objects = all.filter((p) => isObjectNode(p.value));
  const keyed = objects.flatMap((p) =>
    Object.keys(p.value as Record<string, unknown>)
      .filter((k) => !isMarker(k))
      .map((k) => ({ path: p.path, key: k })),
  );
  const options: fc.Arbitrary<Mutated>[] = [];
  if (strings.length > 0) {
    options.push(
      fc.tuple(fc.nat(strings.length - 1), fc.nat(), fc.nat()).map(([i, at, which]) => {
        const place = strings[i]!;
        return {
          value: replaceAt(value, place.path, (old) => withLoneSurrogate(old as string, at, which)),
          expect: refuse(`lone surrogate at ${place.path.join('.')}`, [
            ...namesOf(place.path),
            'unicode',
            'surrogate',
          ]),
        };
      }),
    );
  }
  if (keyed.length > 0) {
    options.push(
      fc.tuple(fc.nat(keyed.length - 1), fc.nat(), fc.nat()).map(([i, at, which]) => {
        const { path, key } = keyed[i]!;
        const renamed = withLoneSurrogate(key, at, which);
        return {
          value: renameKeyAt(value, path, key, renamed),
          // Refused as ill-formed, or as an unknown field named as sent.
          expect: refuse(`lone surrogate in key ${[...path, key].join('.')}`, [
            ...namesOf(path),
            renamed,
            'unicode',
            'surrogate',
          ]),
        };
      }),
    );
  }
  if (leaves.length > 0) {
    options.push(
      fc.tuple(fc.nat(leaves.length - 1), hugeNumber).map(([i, n]) => {
        const place = leaves[i]!;
        return {
          value: replaceAt(value, place.path, () => n),
          expect: refuse(`number out of range at ${place.path.join('.')}`, [
            ...namesOf(place.path),
            'finite',
            'number',
            'range',
          ]),
        };
      }),
    );
    options.push(
      fc.tuple(fc.nat(leaves.length - 1), fc.integer({ min: 33, max: 200 })).map(([i, depth]) => {
        const place = leaves[i]!;
        return {
          value: replaceAt(value, place.path, (old) => nested(depth, old)),
          expect:
            depthOf(place.path) + depth + 1 > 32
              ? refuse('nesting past 32', ['deeper', 'nest'])
              : OPEN_EXPECTATION,
        };
      }),
    );
  }
  if (objects.length > 0) {
    options.push(
      fc.tuple(fc.nat(objects.length - 1), fc.constantFrom(PROTO_KEY, PROTO_ESCAPED_KEY)).map(([i, key]) => ({
        value: addKeyAt(value, objects[i]!.path, key, { polluted: 'fuzz', isAdmin: true }),
        expect: refuse('a __proto__ key', ['__proto__', 'prototype']),
      })),
    );
    options.push(
      fc.nat(objects.length - 1).map((i) => ({
        value: addKeyAt(value, objects[i]!.path, 'constructor', { prototype: { polluted: 'fuzz' } }),
        expect: refuse('a constructor.prototype key', ['constructor', 'prototype']),
      })),
    );
    options.push(
      fc
        .tuple(
          fc.nat(objects.length - 1),
          fc.constantFrom(
            'constructor',
            'prototype',
            'toString',
            'hasOwnProperty',
            'valueOf',
            '__defineGetter__',
          ),
          scalarOf(true),
        )
        .map(([i, key, v]) => ({
          value: addKeyAt(value, objects[i]!.path, key, v),
          expect: OPEN_EXPECTATION,
        })),
    );
  }
  return options.length === 0 ? fc.constant({ value, expect: OPEN_EXPECTATION }) : fc.oneof(...options);
}

/** Every field of a shape with a path into a value of it, for wrong-type mutations. */
function fieldSlots(shape: Shape, value: unknown, path: Path = []): { path: Path; shape: Shape }[] {
  const out: { path: Path; shape: Shape }[] = [];
  if (shape.kind === 'object' && isObjectNode(value)) {
    for (const [name, field] of Object.entries(shape.fields)) {
      out.push({ path: [...path, name], shape: field.shape });
      if (Object.hasOwn(value, name)) out.push(...fieldSlots(field.shape, value[name], [...path, name]));
    }
  } else if (shape.kind === 'list' && Array.isArray(value)) {
    value.forEach((v, i) =>
      out.push({ path: [...path, i], shape: shape.of }, ...fieldSlots(shape.of, v, [...path, i])),
    );
  }
  return out.filter((slot) => wrongOf(slot.shape, true).length > 0);
}

/** A valid value of `shape` with one field given a certainly wrong value. */
function wrongFieldMutation(shape: Shape, value: unknown, coerced: boolean): fc.Arbitrary<Mutated> | null {
  const slots = fieldSlots(shape, value).filter((slot) => wrongOf(slot.shape, coerced).length > 0);
  if (slots.length === 0) return null;
  return fc.nat(slots.length - 1).chain((i) => {
    const slot = slots[i]!;
    const wrong = wrongOf(slot.shape, coerced);
    return fc.constantFrom(...wrong).map((bad) => ({
      value: replaceAt(value, slot.path, () => bad),
      expect: refuse(
        `wrong ${slot.path.join('.')}: ${JSON.stringify(bad).slice(0, 40)}`,
        namesOf(slot.path).slice(-2),
      ),
    }));
  });
}

/** The objects of a value whose shape is closed (an unknown field is refused there), with their paths. */
function closedObjects(shape: Shape, value: unknown, path: Path = []): Path[] {
  if (shape.kind === 'object' && isObjectNode(value)) {
    const inner = Object.entries(shape.fields).flatMap(([name, field]) =>
      Object.hasOwn(value, name) ? closedObjects(field.shape, value[name], [...path, name]) : [],
    );
    return shape.closed ? [path, ...inner] : inner;
  }
  if (shape.kind === 'list' && Array.isArray(value)) {
    return value.flatMap((v, i) => closedObjects(shape.of, v, [...path, i]));
  }
  return [];
}

/** A field no route knows, in an object that takes only known ones: refused, naming the field. */
function unknownFieldMutation(shape: Shape, value: unknown): fc.Arbitrary<Mutated> | null {
  const objects = closedObjects(shape, value);
  if (objects.length === 0) return null;
  return fc
    .tuple(
      fc.nat(objects.length - 1),
      fc.constantFrom('fz_unknown', 'userId', 'Items', 'évent', 'x y', '0'),
      scalarOf(true),
    )
    .map(([i, key, v]) => ({
      value: addKeyAt(value, objects[i]!, key, v),
      expect: refuse(`an unknown field "${key}" at ${objects[i]!.join('.')}`, [key]),
    }));
}

/** A huge string or array in place of a leaf: within the body limit or past it. */
function hugeLeafMutation(value: unknown): fc.Arbitrary<Mutated> {
  const leaves = places(value).filter(
    (p) => p.path.length > 0 && (typeof p.value !== 'object' || p.value === null),
  );
  if (leaves.length === 0) return fc.constant({ value, expect: OPEN_EXPECTATION });
  return fc
    .tuple(fc.nat(leaves.length - 1), fc.integer({ min: 1000, max: 900_000 }), fc.boolean())
    .map(([i, size, asArray]) => ({
      value: replaceAt(value, leaves[i]!.path, () =>
        asArray ? Array.from({ length: Math.floor(size / 20) }, (_, k) => k) : 'z'.repeat(size),
      ),
      expect: OPEN_EXPECTATION,
    }));
}

/** Whole bodies no route may accept, whatever it expects. */
function hostileBody(valid: fc.Arbitrary<unknown>): fc.Arbitrary<readonly [Body, Expectation]> {
  const invalidUtf8 = fc.constantFrom(
    [0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0xf5, 0x80, 0x80, 0x80],
    [0x80],
    [0xf0, 0x9f, 0x98],
  );
  return fc.oneof(
    fc
      .tuple(valid, fc.nat(), invalidUtf8)
      .map(
        ([value, at, bytes]) =>
          [{ kind: 'bytes', value, at, bytes }, refuse('bytes that are not UTF-8', ['utf-8'])] as const,
      ),
    fc.tuple(valid, fc.nat()).map(([value, cut]) => {
      const textValue = JSON.stringify(value);
      // A proper prefix of an object's text is never JSON.
      const prefix =
        isObjectNode(value) && textValue.length > 1
          ? textValue.slice(0, 1 + (cut % (textValue.length - 1)))
          : '{"a":';
      return [
        { kind: 'text', text: prefix, contentType: 'application/json' },
        refuse('truncated JSON', ['json']),
      ] as const;
    }),
    fc
      .constantFrom(
        "{'a': 1}",
        '{"a":1}}',
        '{"a":1} x',
        'NaN',
        '{"a":undefined}',
        '{"a":0x10}',
        '{"a":.5}',
        '{"a":"\\x41"}',
        '{"a":"\t"}',
        '[1,]',
        '{,}',
      )
      .map(
        (t) =>
          [
            { kind: 'text', text: t, contentType: 'application/json' },
            refuse('malformed JSON', ['json']),
          ] as const,
      ),
    fc.constant([
      { kind: 'text', text: '', contentType: 'application/json' },
      refuse('an empty body', ['body', 'empty']),
    ] as const),
    fc.integer({ min: 33, max: 20_000 }).map(
      (depth) =>
        [
          {
            kind: 'text',
            text: `${'['.repeat(depth)}${']'.repeat(depth)}`,
            contentType: 'application/json',
          },
          refuse('nesting past 32', ['deeper', 'nest']),
        ] as const,
    ),
    fc.integer({ min: 33, max: 2_000 }).map(
      (depth) =>
        [
          {
            kind: 'text',
            text: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
            contentType: 'application/json',
          },
          refuse('nesting past 32', ['deeper', 'nest']),
        ] as const,
    ),
    fc
      .tuple(fc.integer({ min: 1024 * 1024 + 1, max: 3 * 1024 * 1024 }), fc.boolean())
      .map(
        ([size, array]) =>
          [{ kind: 'huge', size, array }, refuse('a body over 1 MiB', ['larger', 'limit'])] as const,
      ),
    fc
      .constantFrom(
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        'image/png',
      )
      .map(
        (type) =>
          [
            { kind: 'text', text: 'a=1', contentType: type },
            refuse(`content type ${type}`, ['media', 'type', 'content']),
          ] as const,
      ),
  );
}

// --- routes ---------------------------------------------------------------------------------------------

interface RouteSpec {
  /** Relative share of requests. */
  readonly weight: number;
  readonly params?: Readonly<Record<string, PoolName>>;
  readonly query?: QuerySpec;
  /** The body a valid request carries; absent: the route reads none. */
  readonly body?: Shape;
  /** The body is checked by Fastify's schema validation (with its coercions), not by a hand-written reader. */
  readonly coerced?: boolean;
  readonly batch?: 'events' | 'items';
}

const label = (...values: string[]) => fc.constantFrom(...values);
const eventName = text(
  label(
    'product_viewed',
    'added_to_cart',
    'purchased',
    'clicked',
    'Order Completed',
    'dismissed',
    'notification_sent',
  ),
  200,
  ['', '   '],
);

const EVENT: Shape = object({
  event: required(eventName),
  user_id: required(id('users')),
  item_id: id('items'),
  timestamp: time,
  event_id: text(fc.uuid(), MAX_ID_LENGTH, ['', ' ']),
  context: record(),
  properties: record(),
});

const ITEM_FIELDS = {
  categories: list(text(label('shoes', 'books', 'Küche', '☃'), 200, ['']), 0, Infinity, 4),
  tags: list(text(label('sale', 'new', 'eco'), 200, ['']), 0, Infinity, 4),
  price: num(0, 1e6, { bounds: [0, Infinity] }),
  available: bool,
  created_at: time,
  expires_at: custom(fc.integer({ min: Date.now() + DAY, max: Date.now() + 900 * DAY }), [
    'soon',
    -1,
    {},
    1_700_000_000,
    true,
  ]),
  attributes: record(),
};
const ITEM: Shape = object({ id: required(id('items')), ...ITEM_FIELDS });

const FILTERS = label(
  'price<100',
  'price>=5',
  'available=true',
  'categories=shoes',
  'tags!=sale',
  'brand=acme',
);
const BAD_FILTERS = ['price<<1', '=x', 'price<abc', '', 'price', '<5'];
const rulesShape = {
  filter: list(text(FILTERS, undefined, BAD_FILTERS), 0, Infinity, 3),
  category: list(text(label('shoes', 'books')), 0, Infinity, 2),
  boost: list(
    text(label('categories=shoes', 'tags=sale:3', 'price<10:+0.5'), undefined, [
      'price<<1:2',
      'tags=sale:0.5',
    ]),
    0,
    Infinity,
    2,
  ),
  bury: list(text(label('categories=books', 'tags=eco:0.5'), undefined, ['tags=eco:7']), 0, Infinity, 2),
  pin: list(text(label('fz-i-1:0', 'fz-i-2:3'), undefined, ['fz-i-1', 'fz-i-1:-1', ':0']), 0, Infinity, 2),
  // Ids never to show: not checked as ids (one that names no item excludes nothing).
  exclude: list(text(poolRef('items')), 0, Infinity, 3),
  reshow: text(
    label('never', 'always', 'seen_after_days:7', 'purchased_never', 'purchased_after_days:30'),
    undefined,
    ['sometimes', 'seen_after_days:x'],
  ),
  diversity: num(0, 1),
  freshness: num(0, 1),
  max_per_category: num(0, 1000, { integer: true }),
  session_weight: num(0, 5),
  session_items: num(1, 50, { integer: true }),
};

const VARIANTS = list(
  object({
    name: required(text(label('control', 'b', 'c', 'treatment'), 64, [''])),
    weight: num(0, 100, { exclusiveMin: true, bounds: [0, Infinity] }),
    model: text(label('als', 'ease', 'popularity'), 64, ['']),
    preset: text(poolRef('presets'), 64, ['']),
    config: json,
  }),
  2,
  20,
  3,
);
const AUDIENCE = list(
  object({
    trait: required(text(label('plan', 'country', 'segment'), 256, [''])),
    op: required(oneOf('eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'exists')),
    value: custom(fc.oneof(scalarOf(true), fc.array(scalarOf(true), { maxLength: 3 }))),
  }),
  0,
  50,
  2,
);
const METRIC_LIST = list(
  text(label('purchase_conversion', 'revenue_per_user', 'click_through', 'day7_retention'), 64, ['']),
  0,
  50,
  2,
);

const POINT_ACTIONS: Shape = {
  ...list(
    object({
      id: required(text(label('a', 'b', 'c', 'ten', 'none'), undefined, ['', 'A!', 'x'.repeat(65)])),
      // Always sent with valid bodies, with `parameters`: a point names only its first problem.
      params: required(
        custom(fc.constant({ discount_pct: 5 }), [
          { discount_pct: 'x' },
          { 'bad name!': 1 },
          { discount_pct: 99 },
          'x',
          [1],
        ]),
      ),
      payload: json,
    }),
    1,
    256,
    3,
  ),
  // A point names a repeated action id before anything else.
  distinct: 'id',
} as Shape;
const POINT_FIELDS = {
  name: text(label('Offer', 'Checklist order'), undefined, ['']),
  description: text(anyText(40)),
  actions: required(POINT_ACTIONS),
  parameters: required(
    custom(fc.constant({ discount_pct: { min: 0, max: 25 } }), [
      { discount_pct: { min: 5, max: 1 } },
      { discount_pct: 3 },
      'x',
    ]),
  ),
  learner: custom(
    fc.constantFrom(
      { kind: 'linucb', alpha: 0.5 },
      { kind: 'thompson', scale: 1 },
      { kind: 'epsilon_greedy', epsilon: 0.1 },
    ),
    [{ kind: 'magic' }, { kind: 'linucb', alpha: 'x' }, 'linucb'],
  ),
  reward: custom(
    fc.constantFrom(
      { source: 'explicit', window: '1h' },
      { source: 'event', event: 'purchased', window: '30m' },
    ),
    [{ source: 'explicit', window: 'forever' }, { source: 'psychic' }],
  ),
  default_reward: num(-10, 10, { bounds: null }),
  mode: oneOf('learn', 'apprentice'),
  layout: oneOf('disjoint'),
  guardrails: custom(fc.constant({ min_decisions: 100 }), [{ min_decisions: 1 }, 'x']),
};
const METRIC: Shape = object({
  kind: required(oneOf('conversion', 'count')),
  windowHours: required(num(0, 24 * 366, { exclusiveMin: true })),
  event: text(label('purchased', 'product_viewed'), 200, ['']),
  where: custom(recordOf(fc.oneof(anyText(10), fc.integer(), fc.boolean()), 3), ['x', [1], { a: { b: 1 } }]),
  description: text(anyText(40), 1000),
  higherIsBetter: bool,
});

// Segment's tracking spec (api/segment-spec.ts): messages are open objects (Segment's libraries send many
// fields Attune ignores); nested properties, traits and context are flattened, so they take any JSON object.
const segmentObject = (valid: fc.Arbitrary<unknown>): Shape => custom(valid, ['text', 5, [1, 2], true]);
const SEGMENT_PRODUCT = fc.record({
  product_id: poolRef('items'),
  price: fc.integer({ min: 0, max: 500 }),
  quantity: fc.integer({ min: 1, max: 4 }),
});
const SEGMENT_PROPERTIES = segmentObject(
  fc.oneof(
    recordOf(jsonValue(2)),
    SEGMENT_PRODUCT,
    fc.record({
      order_id: anyText(12),
      revenue: fc.integer({ min: 0, max: 2000 }),
      products: fc.array(SEGMENT_PRODUCT, { maxLength: 3 }),
    }),
  ),
);
const SEGMENT_CONTEXT = segmentObject(
  fc.oneof(
    recordOf(jsonValue(2)),
    fc.record({
      ip: fc.constantFrom('203.0.113.5', '2001:db8::7'),
      locale: fc.constantFrom('en-US', 'fr-FR'),
      userAgent: fc.constantFrom('Mozilla/5.0 (iPhone) Mobile', 'Mozilla/5.0 (X11; Linux x86_64)'),
      device: fc.record({ type: fc.constantFrom('ios', 'android', 'tablet'), id: anyText(12) }),
      page: fc.record({ path: anyText(20), url: anyText(30) }),
      traits: recordOf(scalarOf(true)),
    }),
  ),
);
const SEGMENT_TRAITS = segmentObject(
  fc.oneof(
    recordOf(jsonValue(2)),
    fc.record({ plan: fc.constantFrom('free', 'pro'), email: fc.constant('a@b.example') }),
  ),
);
const SEGMENT_FIELDS = {
  userId: required(id('users')),
  anonymousId: id(),
  messageId: text(fc.uuid(), MAX_ID_LENGTH, ['', ' ']),
  timestamp: time,
  originalTimestamp: time,
  sentAt: time,
  context: SEGMENT_CONTEXT,
};
const SEGMENT_EVENT_NAME = text(
  label('Product Viewed', 'Product Added', 'Order Completed', 'Checkout Started', 'Cart Viewed', 'Signed Up'),
  200,
  ['', '   '],
);
const SEGMENT_VIEW = object(
  {
    name: text(label('Home', 'Product'), 200, ['']),
    category: text(label('Shop'), 200, ['']),
    properties: SEGMENT_PROPERTIES,
    ...SEGMENT_FIELDS,
  },
  false,
);
/** Any message of a batch: valid ones of each type (their type's fields), and any JSON. */
const SEGMENT_MESSAGE = custom(
  fc.oneof(
    fc.record({
      type: fc.constant('track'),
      userId: poolRef('users'),
      event: validOf(SEGMENT_EVENT_NAME),
      properties: validOf(SEGMENT_PROPERTIES),
      context: validOf(SEGMENT_CONTEXT),
    }),
    fc.record({
      type: fc.constantFrom('identify', 'group'),
      userId: poolRef('users'),
      anonymousId: anyText(20).filter(isAcceptedId),
      groupId: fc.constant('acme'),
      traits: validOf(SEGMENT_TRAITS),
    }),
    fc.record({
      type: fc.constantFrom('page', 'screen'),
      anonymousId: poolRef('users'),
      name: label('Home'),
    }),
    fc.record({
      type: fc.constant('alias'),
      userId: poolRef('users'),
      previousId: anyText(20).filter(isAcceptedId),
    }),
    jsonValue(3),
  ),
);

/** Every route in `ROUTE_ACCESS` but CORS preflights, with what its requests carry. */
export const ROUTE_SPECS: Readonly<Record<string, RouteSpec>> = {
  'GET /health': { weight: 0.5 },
  'GET /metrics': { weight: 0.3 },
  // The API reference (api/openapi.ts): no parameters; `*` is sent as a literal asset name (a 404).
  'GET /docs': { weight: 0.1 },
  'GET /docs/': { weight: 0.1 },
  'GET /docs/json': { weight: 0.1 },
  'GET /docs/yaml': { weight: 0.1 },
  'GET /docs/static/index.html': { weight: 0.1 },
  'GET /docs/static/swagger-initializer.js': { weight: 0.1 },
  'GET /docs/static/*': { weight: 0.1 },
  // The dashboard's page and assets (api/dashboard-ui.ts): `*` is sent as it is, a view the page renders.
  'GET /dashboard': { weight: 0.1 },
  'GET /dashboard/*': { weight: 0.1 },

  'POST /v1/events': { weight: 6, body: EVENT, batch: 'events' },
  'PUT /v1/users/:id': {
    weight: 2,
    params: { id: 'users' },
    body: object({ traits: record(), created_at: time, consent: oneOf('full', 'analytics', 'none') }),
  },
  'POST /v1/exposures': {
    weight: 1,
    coerced: true,
    body: object({
      user_id: required(id('users')),
      experiment: required(text(poolRef('experiments'), 64, [''])),
      timestamp: time,
    }),
  },
  'POST /v1/track': {
    weight: 1,
    body: object(
      { event: required(SEGMENT_EVENT_NAME), properties: SEGMENT_PROPERTIES, ...SEGMENT_FIELDS },
      false,
    ),
  },
  'POST /v1/identify': { weight: 1, body: object({ traits: SEGMENT_TRAITS, ...SEGMENT_FIELDS }, false) },
  'POST /v1/page': { weight: 0.5, body: SEGMENT_VIEW },
  'POST /v1/screen': { weight: 0.5, body: SEGMENT_VIEW },
  'POST /v1/batch': {
    weight: 2,
    body: object(
      { batch: required(list(SEGMENT_MESSAGE, 0, 5000, 6)), sentAt: time, context: SEGMENT_CONTEXT },
      false,
    ),
  },
  // analytics.js's one-letter paths: the same handlers, so the same shapes.
  'POST /v1/t': {
    weight: 0.25,
    body: object(
      { event: required(SEGMENT_EVENT_NAME), properties: SEGMENT_PROPERTIES, ...SEGMENT_FIELDS },
      false,
    ),
  },
  'POST /v1/i': { weight: 0.25, body: object({ traits: SEGMENT_TRAITS, ...SEGMENT_FIELDS }, false) },
  'POST /v1/p': { weight: 0.25, body: SEGMENT_VIEW },
  'POST /v1/s': { weight: 0.25, body: SEGMENT_VIEW },
  'POST /v1/b': {
    weight: 0.25,
    body: object(
      { batch: required(list(SEGMENT_MESSAGE, 0, 5000, 6)), sentAt: time, context: SEGMENT_CONTEXT },
      false,
    ),
  },

  'GET /v1/recommendations': {
    weight: 2,
    query: {
      user_id: required(id('users')),
      n: { shape: num(1, 100, { integer: true }) },
      exclude_seen: { shape: bool },
      request_id: { shape: id('requests') },
      preset: { shape: text(poolRef('presets'), 64, ['']) },
      ...Object.fromEntries(Object.entries(rulesShape).map(([k, s]) => [k, { shape: s }])),
    },
  },
  'GET /v1/recommendations/explain': {
    weight: 1,
    query: {
      user_id: required(id('users')),
      item_id: required(id('items')),
      model: { shape: text(label('als', 'popularity', 'ease'), 64, ['']) },
      limit: { shape: num(1, 100, { integer: true }) },
    },
  },
  'GET /v1/items/:id/similar': {
    weight: 1,
    params: { id: 'items' },
    query: {
      n: { shape: num(1, 100, { integer: true }) },
      user_id: { shape: id('users') },
      category: { shape: rulesShape.category },
      filter: { shape: rulesShape.filter },
    },
  },
  'POST /v1/rank': {
    weight: 1,
    coerced: true,
    body: object({
      user_id: required(id('users')),
      items: required(list(id('items'), 1, 500, 6)),
      context: custom(recordOf(fc.oneof(anyText(10), fc.integer(), fc.boolean()), 3), [
        { a: { b: 1 } },
        { a: [1, 2] },
        'x',
      ]),
    }),
  },
  'GET /v1/items': {
    weight: 1,
    // `after` is a cursor: any text, the empty one reading from the start.
    query: { after: { shape: text(poolRef('items')) }, limit: { shape: num(1, 1000, { integer: true }) } },
  },
  'GET /v1/items/:id': { weight: 1, params: { id: 'items' } },
  'GET /v1/assignments': { weight: 0.7, query: { user_id: required(id('users')) } },
  'POST /v1/decisions/:id': {
    weight: 1.5,
    coerced: true,
    params: { id: 'points' },
    body: object({
      user_id: required(id('users')),
      context: custom(
        fc.record(
          {
            device: label('mobile', 'desktop'),
            local_time: fc.constant('2026-12-03T19:30:00+01:00'),
            page: anyText(8),
          },
          { requiredKeys: [] },
        ),
        ['text', [1, 2]],
      ),
      actions: list(text(label('a', 'b', 'c')), 1, 256, 2),
      limits: custom(fc.constant({ discount_pct: { max: 15 } }), [
        { discount_pct: { max: 'x' } },
        { discount_pct: 3 },
      ]),
    }),
  },
  'POST /v1/decisions/:id/reward': {
    weight: 1,
    coerced: true,
    params: { id: 'points' },
    body: object({
      decision_id: required(text(poolRef('decisions'), 64, [''])),
      value: required(num(-100, 100, { bounds: null })),
    }),
  },
  'GET /v1/features/definitions': { weight: 0.3 },
  'GET /v1/users/:id/features': {
    weight: 0.7,
    params: { id: 'users' },
    query: { item_id: { shape: id('items') } },
  },
  'GET /v1/items/:id/features': { weight: 0.5, params: { id: 'items' } },
  'GET /v1/users/:id/churn': { weight: 0.3, params: { id: 'users' } },
  'GET /v1/users/:id/segment': { weight: 0.3, params: { id: 'users' } },
  'GET /v1/users/:id/notification-time': {
    weight: 0.5,
    params: { id: 'users' },
    query: {
      tz: {
        shape: text(label('Europe/Paris', 'UTC', 'Asia/Kolkata', 'America/Los_Angeles'), 64, [
          'Mars/Olympus',
          'x'.repeat(65),
        ]),
      },
      quiet_start: { shape: num(0, 23, { integer: true }) },
      quiet_end: { shape: num(0, 23, { integer: true }) },
      max_per_day: { shape: num(1, 100, { integer: true }) },
      max_per_week: { shape: num(1, 700, { integer: true }) },
    },
  },
  'GET /v1/segments': { weight: 0.3 },

  'GET /v1/users/:id': { weight: 0.7, params: { id: 'users' } },
  'GET /v1/users/:id/events': {
    weight: 0.7,
    params: { id: 'users' },
    query: { limit: { shape: num(1, 1000, { integer: true }) } },
  },
  'GET /v1/users/:id/export': { weight: 0.3, params: { id: 'users' } },
  'DELETE /v1/users/:id': { weight: 0.2, params: { id: 'users' } },
  'GET /v1/impressions/:request_id': { weight: 0.5, params: { request_id: 'requests' } },
  'PUT /v1/items/:id': { weight: 1.5, params: { id: 'items' }, body: object(ITEM_FIELDS) },
  'POST /v1/items': { weight: 2, body: ITEM, batch: 'items' },
  'DELETE /v1/items/:id': { weight: 0.3, params: { id: 'items' } },
  'POST /v1/admin/train': {
    weight: 0.02,
    query: { wait: { shape: custom(fc.constant('false'), ['maybe', '2']) } },
  },
  'GET /v1/models': { weight: 0.3 },
  'PUT /v1/rules/:name': { weight: 1, coerced: true, params: { name: 'presets' }, body: object(rulesShape) },
  'GET /v1/rules/:name': { weight: 0.5, params: { name: 'presets' } },
  'DELETE /v1/rules/:name': { weight: 0.2, params: { name: 'presets' } },
  'POST /v1/experiments': {
    weight: 1,
    coerced: true,
    body: object({
      id: required(text(poolRef('experiments'), 64, [''])),
      name: text(anyText(20), 200, ['']),
      description: text(anyText(40), 5000),
      layer: text(label('default', 'ranking', 'layer-2'), 64, ['']),
      traffic: num(0.01, 0.2, { bounds: [0, 1], exclusiveMin: true }),
      variants: required(VARIANTS),
      audience: AUDIENCE,
      metrics: METRIC_LIST,
      guardrails: METRIC_LIST,
      salt: text(anyText(10), 64, ['']),
      start: bool,
    }),
  },
  'GET /v1/experiments': { weight: 0.3 },
  'GET /v1/experiments/:id': { weight: 0.5, params: { id: 'experiments' } },
  'PATCH /v1/experiments/:id': {
    weight: 0.7,
    coerced: true,
    params: { id: 'experiments' },
    body: object({
      name: text(anyText(20), 200, ['']),
      description: text(anyText(40), 5000),
      traffic: num(0.01, 0.2, { bounds: [0, 1], exclusiveMin: true }),
      variants: VARIANTS,
      audience: AUDIENCE,
      metrics: METRIC_LIST,
      revision: num(1, 50, { integer: true, bounds: [1, Infinity] }),
    }),
  },
  'POST /v1/experiments/:id/start': { weight: 0.3, params: { id: 'experiments' } },
  'POST /v1/experiments/:id/stop': { weight: 0.1, params: { id: 'experiments' } },
  'GET /v1/experiments/:id/results': { weight: 0.05, params: { id: 'experiments' } },
  'GET /v1/metrics': { weight: 0.3 },
  'PUT /v1/metrics/:name': { weight: 0.7, params: { name: 'metrics' }, body: METRIC },
  'POST /v1/decision-points': {
    weight: 0.7,
    body: object({
      id: required(text(poolRef('points'), undefined, ['', 'UPPER', 'x'.repeat(65)])),
      ...POINT_FIELDS,
    }),
  },
  'GET /v1/decision-points': { weight: 0.3 },
  'GET /v1/decision-points/:id': { weight: 0.5, params: { id: 'points' } },
  'PUT /v1/decision-points/:id': { weight: 0.5, params: { id: 'points' }, body: object(POINT_FIELDS) },
  'DELETE /v1/decision-points/:id': { weight: 0.1, params: { id: 'points' } },
  'POST /v1/keys': {
    weight: 0.3,
    coerced: true,
    body: object({
      scope: required(oneOf('ingest', 'server', 'admin')),
      name: text(anyText(30), 100, ['']),
      app: text(fc.constant('default'), undefined, ['other-app', 'Bad App']),
    }),
  },
  'GET /v1/keys': { weight: 0.3 },
  'DELETE /v1/keys/:id': { weight: 0.2, params: { id: 'keys' } },
  'GET /v1/audit': {
    weight: 0.3,
    query: {
      after: { shape: num(0, 1e6, { integer: true, bounds: [0, Infinity] }) },
      limit: { shape: num(1, 1000, { integer: true }) },
    },
  },
  'GET /v1/dashboard/overview': { weight: 0.1 },
  'GET /v1/dashboard/events': {
    weight: 0.5,
    query: {
      limit: { shape: num(1, 500, { integer: true }) },
      before: { shape: num(1, 1e6, { integer: true, bounds: [1, Infinity] }) },
      after: { shape: num(0, 1e6, { integer: true, bounds: [0, Infinity] }) },
      event: { shape: text(label('product_viewed', 'clicked', 'purchased'), 256, ['']) },
      user_id: { shape: id('users') },
      item_id: { shape: id('items') },
    },
  },
  'GET /v1/dashboard/users': {
    weight: 0.3,
    query: {
      prefix: { shape: text(label('fz-u-', 'fz-u-1', 'Zo'), 256, ['']) },
      limit: { shape: num(1, 500, { integer: true }) },
    },
  },
  'GET /v1/dashboard/models': { weight: 0.1 },
  'GET /v1/dashboard/experiments/:id/timeline': { weight: 0.05, params: { id: 'experiments' } },
  'GET /v1/dashboard/segments/projection': {
    weight: 0.1,
    query: { limit: { shape: num(2, 2000, { integer: true }) } },
  },
  'GET /v1/dashboard/decision-points/:id/timeline': {
    weight: 0.3,
    params: { id: 'points' },
    query: {
      bucket: { shape: oneOf('hour', 'day') },
      limit: { shape: num(1, 1000, { integer: true }) },
    },
  },
};

/** The routes the fuzzer covers: every entry of ROUTE_ACCESS but `OPTIONS *` (only with CORS origins). */
export function fuzzedRoutes(): string[] {
  return Object.keys(ROUTE_ACCESS).filter((key) => !key.startsWith('OPTIONS '));
}

// --- canaries -------------------------------------------------------------------------------------------

/** Values redaction leaves alone (no `.`, `:`, `@` or `+`) and that are valid everywhere. */
const canaryText = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 16 })
  .filter((s) => /\S/.test(s) && !/[.:@+]/.test(s));

const canaryEventValue = fc.record({
  context: fc.record({
    page: canaryText,
    n: fc.integer({ min: -1e6, max: 1e6 }),
    flag: fc.boolean(),
    none: fc.constant(null),
  }),
  properties: fc.record({
    note: canaryText,
    amount: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
  }),
  item: canaryText.filter(isAcceptedId),
  ms: fc.integer({ min: 0, max: 20 * DAY }),
});

const canaryItemValue = fc.record({
  categories: fc.uniqueArray(canaryText, { maxLength: 3 }),
  tags: fc.uniqueArray(canaryText, { maxLength: 3 }),
  price: fc.oneof(
    fc.constant(null),
    fc.double({ min: 0, max: 1e6, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
  ),
  available: fc.boolean(),
  attributes: fc.record({ color: canaryText, size: fc.integer({ min: 0, max: 60 }) }),
});

// --- building requests ----------------------------------------------------------------------------------

/**
 * A batch body of valid, hostile and random elements, perhaps with a canary among them (a marker the runner
 * fills in when it sends the batch), and what must become of each element.
 */
function batchOf(
  kind: 'events' | 'items',
  element: Shape,
  coerced: boolean,
): fc.Arbitrary<{ readonly body: unknown; readonly batch: BatchPlan }> {
  const validElement = validOf(element);
  const elementChoice = fc.oneof(
    {
      weight: 5,
      arbitrary: validElement.map((v) => ({
        value: v,
        hostile: null as { why: string; mention: readonly string[] } | null,
        valid: true,
      })),
    },
    {
      weight: 3,
      arbitrary: validElement.chain((v) => {
        const options = [
          wrongFieldMutation(element, v, coerced),
          unknownFieldMutation(element, v),
          genericElementMutation(v),
        ];
        return fc.oneof(...options.filter((o): o is fc.Arbitrary<Mutated> => o !== null)).map((m) => ({
          value: m.value,
          hostile: m.expect.kind === 'refuse' ? m.expect : null,
          valid: false,
        }));
      }),
    },
    { weight: 1, arbitrary: jsonValue(3).map((v) => ({ value: v, hostile: null, valid: false })) },
  );
  return fc
    .tuple(fc.array(elementChoice, { minLength: 0, maxLength: 12 }), fc.boolean(), fc.nat(), fc.boolean())
    .map(([elements, withCanary, at, single]) => {
      const values = elements.map((e) => e.value);
      let canary = -1;
      if (withCanary) {
        canary = at % (values.length + 1);
        values.splice(canary, 0, marker(`canary-${kind}:0`));
        elements.splice(canary, 0, { value: null, hostile: null, valid: true });
      }
      const hostile = new Map<number, { why: string; mention: readonly string[] }>();
      const valid: number[] = [];
      elements.forEach((e, i) => {
        if (e.hostile) hostile.set(i, { why: e.hostile.why, mention: e.hostile.mention });
        else if (e.valid) valid.push(i);
      });
      const plan: BatchPlan = { kind, hostile, valid, canary };
      // One event may be sent alone (not wrapped); items are always a bulk body.
      if (kind === 'events' && single && values.length === 1) return { body: values[0], batch: plan };
      return { body: { [kind]: values }, batch: plan };
    });
}

const PROTOTYPE_KEYS = new Set(['a __proto__ key', 'a constructor.prototype key']);
/** What the body parser refuses for the whole body, whichever element holds it. */
const BODY_LEVEL = new Set([...PROTOTYPE_KEYS, 'nesting past 32']);

/** Hostile changes within one element of a batch (the parser's refusals are batch-level, not here). */
function genericElementMutation(value: unknown): fc.Arbitrary<Mutated> {
  return genericMutation(value).filter((m) => m.expect.kind === 'open' || !BODY_LEVEL.has(m.expect.why));
}

/** Batch-level hostility: the whole body refused. */
function hostileBatch(
  kind: 'events' | 'items',
  element: Shape,
): fc.Arbitrary<readonly [unknown, Expectation]> {
  const validElement = validOf(element);
  return fc.oneof(
    fc
      .integer({ min: 1001, max: 1400 })
      .map(
        (n) =>
          [
            { [kind]: Array.from({ length: n }, () => ({})) },
            refuse(`${n} ${kind}`, ['too many', kind]),
          ] as const,
      ),
    fc
      .tuple(
        fc.array(validElement, { maxLength: 3 }),
        fc.constantFrom('extra', 'Events', 'items_', 'user_id'),
      )
      .map(
        ([values, key]) => [{ [kind]: values, [key]: 1 }, refuse(`extra top-level ${key}`, [key])] as const,
      ),
    fc
      .constantFrom('x', 5, { a: 1 }, null)
      .map((v) => [{ [kind]: v }, refuse(`${kind} not an array`, [kind])] as const),
    fc
      .constantFrom(5, 'text', true, null, [1, 2])
      .map((v) => [v, refuse('a body that is not an object', ['body', 'object'])] as const),
  );
}

/** A `__proto__` or `constructor.prototype` key somewhere in a body (a lone event is put in a batch). */
const withSpecialKeys = (body: unknown): fc.Arbitrary<Mutated> =>
  genericMutation(isObjectNode(body) ? body : { events: [body] }).filter(
    (m) => m.expect.kind === 'refuse' && PROTOTYPE_KEYS.has(m.expect.why),
  );

function bodyFor(
  spec: RouteSpec,
  method: Method,
): fc.Arbitrary<{ body: Body | null; expect: Expectation; batch?: BatchPlan }> {
  const none = fc.constant({ body: null, expect: OPEN_EXPECTATION });
  if (method === 'GET' || method === 'DELETE' || !spec.body) {
    const emptyValid = fc.constant({});
    const junk = hostileBody(emptyValid).map(([body, expect]) => ({
      body,
      // GET bodies are not read at all: whatever they hold is open.
      expect: method === 'GET' ? OPEN_EXPECTATION : expect,
    }));
    return fc.oneof({ weight: 8, arbitrary: none }, { weight: 2, arbitrary: junk });
  }
  const shape = spec.body;
  const coerced = spec.coerced ?? false;
  const json = (value: unknown): Body => ({ kind: 'json', value });
  const hostile = hostileBody(validOf(shape)).map(([body, expect]) => ({ body, expect }));
  if (spec.batch) {
    const batch = batchOf(spec.batch, shape, coerced).map((b) => ({
      body: json(b.body),
      expect: OPEN_EXPECTATION,
      batch: b.batch,
    }));
    const wholeHostile = hostileBatch(spec.batch, shape).map(([value, expect]) => ({
      body: json(value),
      expect,
    }));
    const keyed = batchOf(spec.batch, shape, coerced).chain((b) =>
      withSpecialKeys(b.body).map((m) => ({ body: json(m.value), expect: m.expect })),
    );
    return fc.oneof(
      { weight: 10, arbitrary: batch },
      { weight: 2, arbitrary: wholeHostile },
      { weight: 2, arbitrary: keyed },
      { weight: 2, arbitrary: hostile },
    );
  }
  const valid = validOf(shape);
  const mutated = valid.chain((v) => {
    const options = [
      wrongFieldMutation(shape, v, coerced),
      unknownFieldMutation(shape, v),
      genericMutation(v),
    ];
    return fc.oneof(...options.filter((o): o is fc.Arbitrary<Mutated> => o !== null));
  });
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((v) => ({ body: json(v), expect: OPEN_EXPECTATION })) },
    { weight: 6, arbitrary: mutated.map((m) => ({ body: json(m.value), expect: m.expect })) },
    {
      weight: 1,
      arbitrary: valid.chain(hugeLeafMutation).map((m) => ({ body: json(m.value), expect: m.expect })),
    },
    { weight: 1, arbitrary: jsonValue(4).map((v) => ({ body: json(v), expect: OPEN_EXPECTATION })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(5, 'text', true, null, [1, 2]).map((v) => ({
        body: json(v),
        expect: refuse('a body that is not an object', ['body', 'object', 'must be']),
      })),
    },
    { weight: 2, arbitrary: hostile },
  );
}

/** The arbitrary of one route's requests. */
export function requestsFor(route: string): fc.Arbitrary<FuzzRequest> {
  const spec = ROUTE_SPECS[route];
  if (!spec) throw new Error(`no fuzz spec for ${route}: add it to ROUTE_SPECS (test/fuzz.ts)`);
  const [method, pattern] = route.split(' ') as [Method, string];
  const segments = pattern.split('/').slice(1);
  const segmentArbs = segments.map((segment) =>
    segment.startsWith(':')
      ? segmentOf(segment.slice(1), spec.params?.[segment.slice(1)] ?? 'users')
      : fc.constant([segment, OPEN_EXPECTATION] as const),
  );
  return fc
    .tuple(fc.tuple(...segmentArbs), queryOf(spec.query), bodyFor(spec, method))
    .map(([parts, [query, queryExpect], body]): FuzzRequest => {
      let expect = both(queryExpect, body.expect);
      for (const [, e] of parts) expect = both(expect, e);
      return {
        route,
        method,
        path: parts.map(([s]) => s),
        query,
        body: body.body,
        expect,
        ...(body.batch ? { batch: body.batch } : {}),
      };
    });
}

/** Requests over every route, each drawn in proportion to its weight. */
export function anyRequest(routes: readonly string[] = fuzzedRoutes()): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    ...routes.map((route) => ({
      weight: Math.max(1, Math.round((ROUTE_SPECS[route]?.weight ?? 1) * 100)),
      arbitrary: requestsFor(route),
    })),
  );
}

// --- the runner -----------------------------------------------------------------------------------------

export interface Violation {
  readonly kind: string;
  readonly route: string;
  readonly detail: string;
  readonly request?: string;
  readonly reply?: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly elapsedMs: number;
  readonly perRoute: Record<string, number>;
  readonly perStatus: Record<string, number>;
  /** Requests known to be hostile, and how many of them were refused. */
  readonly hostile: number;
  readonly refused: number;
  readonly canaryEvents: { readonly stored: number; readonly refused: number };
  readonly canaryItems: { readonly stored: number; readonly refused: number };
  /** What the engine's background work logged as errors (not violations: no request failed), by message. */
  readonly backgroundErrors: Record<string, number>;
  readonly violations: readonly Violation[];
}

export interface FuzzOptions {
  readonly seed: number;
  readonly requests: number;
  /** Requests of every route sent first, whatever its weight (default 0), within `requests`. */
  readonly minPerRoute?: number;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** Called every `progressEvery` requests (default never). */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
  /** Stop collecting after this many violations (default 50). */
  readonly maxViolations?: number;
}

interface ErrorReply {
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
  readonly errors?: unknown;
}

interface Sent {
  readonly method: Method;
  readonly url: string;
  readonly payload: string | Buffer | undefined;
  readonly contentType: string | undefined;
  /** Words the request named: parameters, query keys, body keys. */
  readonly named: readonly string[];
  /** The path's segments, decoded (three characters or more). */
  readonly pathWords: readonly string[];
  readonly canaryEvent?: CanaryEvent;
  readonly canaryItem?: CanaryItem;
}

interface CanaryEvent {
  readonly eventId: string;
  readonly userId: string;
  readonly body: {
    readonly event: string;
    readonly user_id: string;
    readonly item_id: string;
    readonly timestamp: string;
    readonly event_id: string;
    readonly context: Record<string, unknown>;
    readonly properties: Record<string, unknown>;
  };
}

interface CanaryItem {
  readonly id: string;
  readonly body: {
    readonly id: string;
    readonly categories: string[];
    readonly tags: string[];
    readonly price: number | null;
    readonly available: boolean;
    readonly attributes: Record<string, unknown>;
  };
}

/** Node's inspect-free excerpt of a request or reply, for violation reports. */
const excerpt = (text: string, max = 300): string =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;

function keysOf(value: unknown, out: Set<string>, budget = { left: 200 }): Set<string> {
  if (budget.left <= 0) return out;
  if (Array.isArray(value)) for (const v of value) keysOf(v, out, budget);
  else if (isObjectNode(value))
    for (const [k, v] of Object.entries(value)) {
      budget.left--;
      out.add(k);
      keysOf(v, out, budget);
    }
  return out;
}

/** Words any error message may name to say what was wrong, besides what the request itself named. */
const GENERIC_WORDS = [
  'body',
  'json',
  'utf-8',
  'query',
  'path',
  'params',
  'route',
  'field',
  'key',
  'media type',
];

function mentions(message: string, words: readonly string[]): boolean {
  const lower = message.toLowerCase();
  return words.some((w) => w !== '' && lower.includes(w.toLowerCase()));
}

/** Checks every stored value for what the store must never hold. */
function checkStoredValue(value: unknown, where: string, out: Violation[], seen = new Set<unknown>()): void {
  if (out.length >= 50) return;
  if (typeof value === 'string') {
    if (!isWellFormed(value))
      out.push({
        kind: 'stored-ill-formed',
        route: where,
        detail: `a stored string is not well-formed: ${JSON.stringify(value.slice(0, 60))}`,
      });
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      out.push({ kind: 'stored-non-finite', route: where, detail: `a stored number is ${value}` });
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype)
      out.push({ kind: 'stored-prototype', route: where, detail: 'a stored array has a foreign prototype' });
    for (const v of value) checkStoredValue(v, where, out, seen);
    return;
  }
  if (value instanceof Map || value instanceof Set) {
    for (const v of value.values()) checkStoredValue(v, where, out, seen);
    if (value instanceof Map) for (const k of value.keys()) checkStoredValue(k, where, out, seen);
    return;
  }
  if (proto !== Object.prototype && proto !== null) {
    out.push({
      kind: 'stored-prototype',
      route: where,
      detail: `a stored object's prototype is not Object.prototype: ${Object.keys(proto as object).join(',')}`,
    });
  }
  if (Object.hasOwn(value, '__proto__'))
    out.push({ kind: 'stored-proto-key', route: where, detail: 'a stored object has a "__proto__" key' });
  for (const [k, v] of Object.entries(value)) {
    checkStoredValue(k, where, out, seen);
    checkStoredValue(v, where, out, seen);
  }
}

const PROTOTYPES: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['String.prototype', String.prototype],
  ['Function.prototype', Function.prototype],
];

function prototypeSnapshot(): Map<string, string> {
  return new Map(
    PROTOTYPES.map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort().join(',')]),
  );
}

/** Deep equality for JSON values, numbers by `===`, key order ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (isObjectNode(a) && isObjectNode(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]))
    );
  }
  return false;
}

/**
 * Sends `options.requests` fuzzed requests to every route of the app and checks the invariants; returns the
 * counts and every violation (the run goes on after one). Generation is deterministic for a seed; the app's
 * state (and so some replies) also depends on timing when requests overlap.
 */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const { app, engine, headers } = target;
  const started = performance.now();
  const maxViolations = options.maxViolations ?? 50;
  const violations: Violation[] = [];
  const violate = (v: Violation) => {
    if (violations.length < maxViolations) violations.push(v);
  };
  const pools = new Pools();
  const perRoute: Record<string, number> = {};
  const perStatus: Record<string, number> = {};
  let hostile = 0;
  let refused = 0;
  const canaryEvents: CanaryEvent[] = [];
  const refusedCanaryEvents: CanaryEvent[] = [];
  const canaryItems: CanaryItem[] = [];
  const refusedCanaryItems: CanaryItem[] = [];
  const writtenUsers = new Set<string>();
  let canaryCount = 0;
  const canarySamples = fc.sample(fc.tuple(canaryEventValue, canaryItemValue), {
    seed: options.seed ^ 0x5eed,
    numRuns: 64,
  });

  // Every route of the table is fuzzed, and every spec is a route.
  const routes = fuzzedRoutes();
  for (const route of routes)
    if (!ROUTE_SPECS[route])
      violate({ kind: 'no-spec', route, detail: 'ROUTE_SPECS (test/fuzz.ts) has no entry' });
  for (const route of Object.keys(ROUTE_SPECS))
    if (!routes.includes(route)) violate({ kind: 'stale-spec', route, detail: 'not in ROUTE_ACCESS' });

  const before = prototypeSnapshot();
  const onRejection = (reason: unknown) =>
    violate({
      kind: 'unhandled-rejection',
      route: '-',
      detail:
        reason instanceof Error ? `${reason.name}: ${reason.message}\n${reason.stack ?? ''}` : String(reason),
    });
  const onException = (error: Error) =>
    violate({
      kind: 'uncaught-exception',
      route: '-',
      detail: `${error.name}: ${error.message}\n${error.stack ?? ''}`,
    });
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    await setUp(target, pools);

    const nextCanaryEvent = (): CanaryEvent => {
      const n = canaryCount++;
      const [sample] = canarySamples[n % canarySamples.length]!;
      const userId = `canary-user-${Math.floor(n / 200)}`;
      const eventId = `canary-event-${options.seed}-${n}`;
      return {
        eventId,
        userId,
        body: {
          event: 'product_viewed',
          user_id: userId,
          item_id: sample.item,
          timestamp: new Date(Date.now() - DAY - sample.ms - n).toISOString(),
          event_id: eventId,
          context: sample.context,
          properties: sample.properties,
        },
      };
    };
    const nextCanaryItem = (): CanaryItem => {
      const n = canaryCount++;
      const [, sample] = canarySamples[n % canarySamples.length]!;
      const itemId = `canary-item-${options.seed}-${n}`;
      return { id: itemId, body: { id: itemId, ...sample } };
    };

    /** The request as bytes, with markers resolved and canaries filled in. */
    function render(request: FuzzRequest): Sent {
      const path = `/${request.path.map((s) => urlPart(s, pools)).join('/')}`;
      const query = request.query.map(([k, v]) => `${k}=${urlPart(v, pools)}`).join('&');
      const url = query === '' ? path : `${path}?${query}`;
      // What a message may name: the query's names and values, the path's segments, the body's keys.
      const named = new Set<string>([
        ...request.query.flatMap(([k, v]) => [safeDecode(k), safeDecode(urlPart(v, pools))]),
        ...request.path.map((s) => safeDecode(urlPart(s, pools))),
      ]);
      for (const segment of request.route.split(' ')[1]!.split('/'))
        if (segment.startsWith(':')) named.add(segment.slice(1));
      let canaryEvent: CanaryEvent | undefined;
      let canaryItem: CanaryItem | undefined;
      let payload: string | Buffer | undefined;
      let contentType: string | undefined;
      const body = request.body;
      if (body !== null) {
        if (body.kind === 'json' || body.kind === 'bytes') {
          let text = serialize(body.value, pools);
          if (text.includes(marker('canary-events:0'))) {
            canaryEvent = nextCanaryEvent();
            text = text.replace(JSON.stringify(marker('canary-events:0')), JSON.stringify(canaryEvent.body));
          }
          if (text.includes(marker('canary-items:0'))) {
            canaryItem = nextCanaryItem();
            text = text.replace(JSON.stringify(marker('canary-items:0')), JSON.stringify(canaryItem.body));
          }
          keysOf(body.value, named);
          if (body.kind === 'bytes') {
            const bytes = Buffer.from(text, 'utf8');
            const at = bytes.length === 0 ? 0 : body.at % bytes.length;
            payload = Buffer.concat([bytes.subarray(0, at), Buffer.from(body.bytes), bytes.subarray(at)]);
          } else {
            payload = text;
          }
          contentType = 'application/json';
        } else if (body.kind === 'text') {
          payload = body.text;
          contentType = body.contentType;
        } else {
          const filler = 'h'.repeat(body.size);
          payload = body.array
            ? `[${JSON.stringify(filler)}]`
            : `{"events":[],"x":${JSON.stringify(filler)}}`;
          contentType = 'application/json';
        }
      }
      return {
        method: request.method,
        url,
        payload,
        contentType,
        named: [...named].filter((w) => w.length >= 1 && !isMarker(w)),
        pathWords: path
          .split('/')
          .map(safeDecode)
          .filter((w) => w.length >= 3),
        ...(canaryEvent ? { canaryEvent } : {}),
        ...(canaryItem ? { canaryItem } : {}),
      };
    }

    async function send(request: FuzzRequest): Promise<void> {
      const sent = render(request);
      perRoute[request.route] = (perRoute[request.route] ?? 0) + 1;
      const describe = () =>
        `${sent.method} ${excerpt(sent.url, 200)} ${sent.payload === undefined ? '' : excerpt(sent.payload.toString('utf8'), 300)}`;
      let response;
      try {
        response = await app.inject({
          method: sent.method,
          url: sent.url,
          headers: { ...headers, ...(sent.contentType ? { 'content-type': sent.contentType } : {}) },
          ...(sent.payload !== undefined ? { payload: sent.payload } : {}),
        });
      } catch (error) {
        violate({ kind: 'inject-threw', route: request.route, detail: String(error), request: describe() });
        return;
      }
      const status = response.statusCode;
      perStatus[String(status)] = (perStatus[String(status)] ?? 0) + 1;
      const reply = response.body;
      const fail = (kind: string, detail: string) =>
        violate({ kind, route: request.route, detail, request: describe(), reply: excerpt(reply, 400) });

      let parsed: unknown = undefined;
      const isJson = (response.headers['content-type'] ?? '').toString().startsWith('application/json');
      if (isJson && reply !== '') {
        try {
          parsed = JSON.parse(reply);
        } catch {
          fail('reply-not-json', 'the reply says JSON but does not parse');
        }
      }

      if (status >= 500 && !(request.route === 'GET /health' && status === 503)) {
        const cause = target.takeLoggedErrors().join('\n') || 'nothing';
        fail('5xx', `answered ${status}; the server logged: ${cause}`);
      }
      if (request.expect.kind === 'refuse') hostile++;
      if (status >= 400 && status < 500) {
        if (request.expect.kind === 'refuse') refused++;
        checkErrorReply(request, sent, status, parsed, fail);
      } else if (status < 300 && request.expect.kind === 'refuse') {
        fail(
          'accepted-hostile',
          `answered ${status} to a request that must be refused (${request.expect.why})`,
        );
      }
      if (
        request.batch &&
        (status === 200 || status === 400) &&
        isObjectNode(parsed) &&
        Array.isArray(parsed['errors'])
      ) {
        checkBatch(request.batch, parsed, status, sent, fail);
      }
      learn(request, sent, status, parsed);
    }

    function checkErrorReply(
      request: FuzzRequest,
      sent: Sent,
      status: number,
      parsed: unknown,
      fail: (kind: string, detail: string) => void,
    ) {
      const body = parsed as ErrorReply | undefined;
      let messages: string[];
      if (request.batch && isObjectNode(body) && Array.isArray(body.errors) && !body.error) {
        // A batch with no valid element: `{accepted, rejected, errors: [{index, field, message}]}`.
        const errors = body.errors as { field?: unknown; message?: unknown }[];
        if (errors.length === 0) fail('empty-errors', `${status} with an empty "errors" list`);
        messages = errors.map((e) => `${String(e.field)}: ${String(e.message)}`);
        if (errors.some((e) => typeof e.message !== 'string' || e.message === ''))
          fail('empty-message', 'an element error without a message');
      } else {
        const error = body?.error;
        if (!isObjectNode(error) || typeof error.code !== 'string' || typeof error.message !== 'string') {
          fail('error-shape', `${status} without {"error": {"code", "message"}}`);
          return;
        }
        if (error.code === '' || error.message.trim() === '')
          fail('empty-message', `${status} with an empty code or message`);
        messages = [error.message];
      }
      const text = messages.join(' | ');
      // A resource that does not exist (or conflicts) may be answered before the body or query is read: such
      // a reply names the resource instead.
      const aboutResource =
        status !== 400 && status !== 413 && status !== 415 && mentions(text, sent.pathWords);
      // A request may have more than one problem, and a route name only the first: a message naming another
      // field the request sent (`field "pin": …`) names a problem too.
      const aboutAnotherField = quotedNames(text).some((name) => sent.named.includes(name));
      const expect = request.expect;
      if (expect.kind === 'refuse' && expect.mention.length > 0) {
        if (!mentions(text, expect.mention) && !aboutResource && !aboutAnotherField) {
          const words = JSON.stringify(expect.mention);
          fail('message-names-nothing', `the message names none of ${words} (${expect.why})`);
        }
      } else if (!mentions(text, [...sent.named, ...fieldNames(request.route), ...GENERIC_WORDS])) {
        fail('message-names-nothing', 'the message names nothing the request sent');
      }
    }

    function checkBatch(
      plan: BatchPlan,
      reply: Record<string, unknown>,
      status: number,
      sent: Sent,
      fail: (kind: string, detail: string) => void,
    ) {
      const errors = reply['errors'] as { index?: unknown; field?: unknown; message?: unknown }[];
      const byIndex = new Map<number, string[]>();
      for (const e of errors) {
        const list = byIndex.get(Number(e.index)) ?? [];
        list.push(`${String(e.field)}: ${String(e.message)}`);
        byIndex.set(Number(e.index), list);
      }
      for (const [index, { why, mention }] of plan.hostile) {
        const found = byIndex.get(index);
        if (!found) fail('accepted-hostile', `element ${index} is invalid (${why}) but was not refused`);
        else if (!mentions(found.join(' | '), mention)) {
          fail(
            'message-names-nothing',
            `element ${index}'s error names none of ${JSON.stringify(mention)} (${why})`,
          );
        }
      }
      for (const index of plan.valid) {
        if (byIndex.has(index))
          fail('refused-valid', `valid element ${index} was refused: ${byIndex.get(index)!.join('; ')}`);
      }
      const anyValid = plan.valid.length > 0;
      if (anyValid && status !== 200) fail('refused-valid', `${status} for a batch with valid elements`);
      if (plan.canary >= 0) {
        const stored = status === 200 && !byIndex.has(plan.canary);
        if (sent.canaryEvent) (stored ? canaryEvents : refusedCanaryEvents).push(sent.canaryEvent);
        if (sent.canaryItem) (stored ? canaryItems : refusedCanaryItems).push(sent.canaryItem);
      }
    }

    /** Ids learnt from replies, and users written. */
    function learn(request: FuzzRequest, sent: Sent, status: number, parsed: unknown) {
      if (status >= 300) {
        // A body refused whole (not element by element, which checkBatch follows): its canary must not be stored.
        const byElement =
          request.batch !== undefined && isObjectNode(parsed) && Array.isArray(parsed['errors']);
        if (!byElement && sent.canaryEvent) refusedCanaryEvents.push(sent.canaryEvent);
        if (!byElement && sent.canaryItem) refusedCanaryItems.push(sent.canaryItem);
        return;
      }
      if (!isObjectNode(parsed)) return;
      if (request.route === 'POST /v1/decisions/:id' && typeof parsed['decision_id'] === 'string')
        pools.learn('decisions', parsed['decision_id']);
      if (request.route === 'POST /v1/keys' && typeof parsed['id'] === 'string')
        pools.learn('keys', parsed['id']);
      if (
        request.route === 'PUT /v1/users/:id' &&
        isObjectNode(parsed['user']) &&
        typeof parsed['user']['id'] === 'string'
      )
        writtenUsers.add(parsed['user']['id']);
    }

    // Requests are drawn in chunks (a chunk's seed derives from the run's), sent `concurrency` at a time:
    // first `minPerRoute` of every route (each is reached whatever its weight), then all routes by weight.
    const concurrency = options.concurrency ?? 4;
    let done = 0;
    const sendAll = async (batch: readonly FuzzRequest[]): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < batch.length) {
            const request = batch[next++]!;
            await send(request);
            done++;
            if (options.onProgress && options.progressEvery && done % options.progressEvery === 0)
              options.onProgress(done);
          }
        }),
      );
    };
    const seedOf = (n: number) => (options.seed + n * 0x9e3779b1) | 0;
    for (const [r, route] of routes.entries()) {
      const count = Math.min(options.minPerRoute ?? 0, options.requests - done);
      if (count > 0) await sendAll(fc.sample(requestsFor(route), { seed: seedOf(-1 - r), numRuns: count }));
    }
    const arbitrary = anyRequest(routes);
    for (let c = 0; done < options.requests; c++) {
      await sendAll(
        fc.sample(arbitrary, { seed: seedOf(c), numRuns: Math.min(256, options.requests - done) }),
      );
    }

    // After the run: the app still answers, canaries are intact, the store holds nothing invalid.
    const health = await app.inject({ method: 'GET', url: '/health' });
    if (health.statusCode !== 200)
      violate({
        kind: 'not-healthy',
        route: 'GET /health',
        detail: `${health.statusCode} ${excerpt(health.body)}`,
      });
    await verifyCanaries(target, canaryEvents, refusedCanaryEvents, canaryItems, refusedCanaryItems, violate);
    await scanStore(engine, pools, writtenUsers, violate);
    const after = prototypeSnapshot();
    for (const [name, keys] of before) {
      if (after.get(name) !== keys)
        violate({ kind: 'prototype-polluted', route: '-', detail: `${name} changed: ${after.get(name)}` });
    }
    const probe: Record<string, unknown> = {};
    for (const key of ['polluted', 'isAdmin'])
      if (probe[key] !== undefined)
        violate({ kind: 'prototype-polluted', route: '-', detail: `({}).${key} is ${String(probe[key])}` });

    // Let late rejections surface before the listeners go.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      seed: options.seed,
      requests: done,
      elapsedMs: Math.round(performance.now() - started),
      perRoute,
      perStatus,
      hostile,
      refused,
      canaryEvents: { stored: canaryEvents.length, refused: refusedCanaryEvents.length },
      canaryItems: { stored: canaryItems.length, refused: refusedCanaryItems.length },
      backgroundErrors: target.backgroundErrors(),
      violations,
    };
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

/** Every field a route's query and body take (a message may name one that was not sent: "id is required"). */
function fieldNames(route: string): string[] {
  const spec = ROUTE_SPECS[route];
  const names = new Set(Object.keys(spec?.query ?? {}));
  const walk = (shape: Shape | undefined): void => {
    if (shape?.kind === 'object') {
      for (const [name, field] of Object.entries(shape.fields)) {
        names.add(name);
        walk(field.shape);
      }
    } else if (shape?.kind === 'list') walk(shape.of);
  };
  walk(spec?.body);
  return [...names];
}

/** The names quoted in a message, split at path separators: `field "actions[1].id"` → actions, 1, id. */
function quotedNames(message: string): string[] {
  return [...message.matchAll(/"([^"]+)"/g)].flatMap((m) =>
    m[1]!.split(/[.[\]]/).filter((part) => part !== ''),
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A small world to act on: items, users with events, a trained model, presets, experiments, points. */
async function setUp(target: FuzzTarget, pools: Pools): Promise<void> {
  const { app, headers } = target;
  const post = async (method: Method, url: string, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    if (response.statusCode >= 300)
      throw new Error(`fuzz set-up: ${method} ${url} → ${response.statusCode} ${response.body}`);
    return JSON.parse(response.body || 'null') as unknown;
  };
  const items = pools.all('items');
  const users = pools.all('users');
  await post('POST', '/v1/items', {
    items: items.map((id, i) => ({
      id,
      categories: [i % 2 ? 'shoes' : 'books'],
      tags: i % 3 ? [] : ['sale'],
      price: 5 + i,
    })),
  });
  const now = Date.now();
  const events = users.flatMap((user, u) =>
    Array.from({ length: 8 }, (_, k) => ({
      event: k === 0 ? 'purchased' : k === 1 ? 'added_to_cart' : 'product_viewed',
      user_id: user,
      item_id: items[(u * 3 + k * 5) % items.length],
      timestamp: new Date(now - (u * 8 + k + 10) * 60_000).toISOString(),
    })),
  );
  await post('POST', '/v1/events', { events });
  await post('POST', '/v1/admin/train?wait=true');
  for (const name of pools.all('presets'))
    await post('PUT', `/v1/rules/${name}`, { boost: ['categories=shoes'] });
  for (const name of pools.all('metrics'))
    await post('PUT', `/v1/metrics/${name}`, { kind: 'conversion', event: 'purchased', windowHours: 24 });
  const [first, second] = pools.all('experiments');
  await post('POST', '/v1/experiments', {
    id: first,
    traffic: 0.3,
    layer: 'fz',
    variants: [{ name: 'control' }, { name: 'b', preset: pools.all('presets')[0] }],
    start: true,
  });
  await post('POST', '/v1/experiments', {
    id: second,
    traffic: 0.3,
    layer: 'fz2',
    variants: [{ name: 'control' }, { name: 'b', config: { badge: 'x' } }],
  });
  for (const point of pools.all('points').slice(0, 2)) {
    await post('POST', '/v1/decision-points', {
      id: point,
      actions: [
        { id: 'a', params: { discount_pct: 0 } },
        { id: 'b', params: { discount_pct: 10 } },
        { id: 'c', params: { discount_pct: 20 } },
      ],
      parameters: { discount_pct: { min: 0, max: 25 } },
      reward: { source: 'explicit', window: '1h' },
    });
    const decided = await post('POST', `/v1/decisions/${point}`, { user_id: users[0] });
    if (isObjectNode(decided) && typeof decided['decision_id'] === 'string')
      pools.learn('decisions', decided['decision_id']);
  }
  for (const request of pools.all('requests'))
    await post('GET', `/v1/recommendations?user_id=${encodeURIComponent(users[1]!)}&request_id=${request}`);
}

async function verifyCanaries(
  target: FuzzTarget,
  stored: readonly CanaryEvent[],
  refusedEvents: readonly CanaryEvent[],
  items: readonly CanaryItem[],
  refusedItems: readonly CanaryItem[],
  violate: (v: Violation) => void,
): Promise<void> {
  const { app, engine, headers } = target;
  const byUser = new Map<string, CanaryEvent[]>();
  for (const canary of stored) byUser.set(canary.userId, [...(byUser.get(canary.userId) ?? []), canary]);
  for (const [userId, canaries] of byUser) {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/users/${encodeURIComponent(userId)}/events?limit=1000`,
      headers,
    });
    if (response.statusCode !== 200) {
      violate({
        kind: 'canary-lost',
        route: 'GET /v1/users/:id/events',
        detail: `${userId}: ${response.statusCode} ${excerpt(response.body)}`,
      });
      continue;
    }
    const events = (JSON.parse(response.body) as { events: Record<string, unknown>[] }).events;
    const byId = new Map(events.map((e) => [e['event_id'], e]));
    for (const canary of canaries) {
      const found = byId.get(canary.eventId);
      const expected = canary.body;
      if (!found) {
        violate({
          kind: 'canary-lost',
          route: 'POST /v1/events',
          detail: `canary event ${canary.eventId} was acknowledged but is not stored`,
        });
        continue;
      }
      const same =
        found['event'] === expected.event &&
        found['user_id'] === expected.user_id &&
        found['item_id'] === expected.item_id &&
        found['timestamp'] === expected.timestamp &&
        sameJson(found['context'], expected.context) &&
        sameJson(found['properties'], expected.properties);
      if (!same) {
        violate({
          kind: 'canary-changed',
          route: 'POST /v1/events',
          detail: `canary event stored differently: sent ${excerpt(JSON.stringify(expected))}, read ${excerpt(JSON.stringify(found))}`,
        });
      }
    }
  }
  if (refusedEvents.length > 0) {
    const refusedIds = new Set(refusedEvents.map((c) => c.eventId));
    for await (const batch of engine.store.scanEvents()) {
      for (const event of batch) {
        if (refusedIds.has(event.eventId)) {
          violate({
            kind: 'refused-but-stored',
            route: 'POST /v1/events',
            detail: `canary ${event.eventId} was in a refused body, yet stored`,
          });
        }
      }
    }
  }
  for (const canary of items) {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/items/${encodeURIComponent(canary.id)}`,
      headers,
    });
    if (response.statusCode !== 200) {
      violate({
        kind: 'canary-lost',
        route: 'POST /v1/items',
        detail: `canary item ${canary.id}: ${response.statusCode}`,
      });
      continue;
    }
    const item = (JSON.parse(response.body) as { item: Record<string, unknown> }).item;
    const expected = canary.body;
    const same =
      item['id'] === expected.id &&
      sameJson(item['categories'], expected.categories) &&
      sameJson(item['tags'], expected.tags) &&
      item['price'] === expected.price &&
      item['available'] === expected.available &&
      sameJson(item['attributes'], expected.attributes);
    if (!same) {
      violate({
        kind: 'canary-changed',
        route: 'POST /v1/items',
        detail: `canary item stored differently: sent ${excerpt(JSON.stringify(expected))}, read ${excerpt(JSON.stringify(item))}`,
      });
    }
  }
  for (const canary of refusedItems) {
    if ((await engine.store.getItem(canary.id)) !== null) {
      violate({
        kind: 'refused-but-stored',
        route: 'POST /v1/items',
        detail: `canary item ${canary.id} was in a refused body, yet stored`,
      });
    }
  }
}

/** Reads back everything the requests could have stored and checks each value. */
async function scanStore(
  engine: Engine,
  pools: Pools,
  writtenUsers: ReadonlySet<string>,
  violate: (v: Violation) => void,
): Promise<void> {
  const found: Violation[] = [];
  const store = engine.store;
  const users = new Set<string>([...writtenUsers, ...pools.all('users')]);
  for await (const batch of store.scanEvents()) {
    for (const event of batch) {
      checkStoredValue(event, 'stored events', found);
      users.add(event.userId);
    }
  }
  for await (const batch of store.scanItems())
    for (const item of batch) checkStoredValue(item, 'stored items', found);
  for (const id of users) checkStoredValue(await store.getUser(id), 'stored users', found);
  for await (const batch of store.scanImpressions())
    for (const impression of batch) checkStoredValue(impression, 'stored impressions', found);
  checkStoredValue(await store.listExperiments(), 'stored experiments', found);
  const points = await store.listDecisionPoints();
  checkStoredValue(points, 'stored decision points', found);
  for (const point of engine.decisions.list()) {
    for await (const batch of store.scanDecisions(point.id))
      checkStoredValue(batch, 'stored decisions', found);
  }
  checkStoredValue(await store.listApiKeys(), 'stored API keys', found);
  checkStoredValue(await store.listAudit({ limit: 100_000 }), 'stored audit log', found);
  checkStoredValue(engine.metricCatalog.list(), 'stored metrics', found);
  const presets = presetsFor(store);
  for (const name of pools.all('presets')) checkStoredValue(await presets.get(name), 'stored presets', found);
  for (const v of found) violate(v);
}
