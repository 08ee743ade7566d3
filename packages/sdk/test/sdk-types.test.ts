/**
 * The SDK's types come from the OpenAPI document: the generator (scripts/sdk-types.ts) on small specs, a
 * compile check of what it writes, and a check that the committed file is what the current document gives.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_OUTPUT,
  DEFAULT_SPEC,
  generateTypes,
  generateTypesSource,
  operationName,
  readSpec,
  refName,
  schemaToType,
  type OpenApiDocument,
} from '../../../scripts/sdk-types.js';

const compact = (type: string) => type.replace(/\s+/g, ' ');

describe('schemaToType', () => {
  it('translates objects with required and optional properties, quoting names that need it', () => {
    expect(
      compact(
        schemaToType({
          type: 'object',
          properties: { id: { type: 'string' }, 'x-count': { type: 'integer' } },
          required: ['id'],
        }),
      ),
    ).toBe('{ id: string; "x-count"?: number; }');
  });

  it('translates primitives, arrays, tuples, enums, const and null', () => {
    expect(schemaToType({ type: 'boolean' })).toBe('boolean');
    expect(schemaToType({ type: 'number' })).toBe('number');
    expect(schemaToType({ type: 'null' })).toBe('null');
    expect(schemaToType({ type: 'array', items: { type: 'string' } })).toBe('string[]');
    expect(schemaToType({ type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }] })).toBe(
      '[number, string]',
    );
    expect(schemaToType({ type: 'array', items: [{ type: 'number' }, { type: 'number' }] })).toBe(
      '[number, number]',
    );
    expect(schemaToType({ enum: ['full', 'analytics', 'none'] })).toBe('"full" | "analytics" | "none"');
    expect(schemaToType({ const: 'recorded' })).toBe('"recorded"');
    expect(schemaToType({ const: null })).toBe('null');
    expect(schemaToType({ type: ['string', 'null'] })).toBe('string | null');
  });

  it('translates unions, intersections and nullable, with parentheses where they bind', () => {
    expect(schemaToType({ anyOf: [{ type: 'string' }, { type: 'number' }] })).toBe('string | number');
    expect(schemaToType({ oneOf: [{ type: 'string' }, { type: 'string' }] })).toBe('string');
    expect(schemaToType({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } })).toBe(
      '(string | null)[]',
    );
    expect(schemaToType({ type: 'string', nullable: true })).toBe('string | null');
    expect(
      schemaToType({ allOf: [{ $ref: '#/components/schemas/A' }, { $ref: '#/components/schemas/B' }] }),
    ).toBe('A & B');
    // A union of two object types is grouped as a whole inside an array.
    expect(
      compact(
        schemaToType({
          type: 'array',
          items: {
            anyOf: [
              { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
              { type: 'object', properties: { b: { type: 'string' } }, required: ['b'] },
            ],
          },
        }),
      ),
    ).toBe('({ a: string; } | { b: string; })[]');
  });

  it('translates additionalProperties and open objects; unknown for an empty schema', () => {
    expect(compact(schemaToType({ type: 'object', additionalProperties: { type: 'number' } }))).toBe(
      '{ [key: string]: number; }',
    );
    expect(compact(schemaToType({ type: 'object' }))).toBe('{ [key: string]: unknown; }');
    expect(compact(schemaToType({ type: 'object', additionalProperties: false }))).toBe(
      'Record<string, never>',
    );
    // Named properties beside extra ones: the index signature admits both.
    expect(
      compact(
        schemaToType({
          type: 'object',
          properties: { id: { type: 'string' } },
          required: ['id'],
          additionalProperties: { type: 'number' },
        }),
      ),
    ).toBe('{ id: string; [key: string]: unknown; }');
    expect(schemaToType({})).toBe('unknown');
    expect(schemaToType(undefined)).toBe('unknown');
  });

  it('names $refs after their component and refuses refs it cannot follow', () => {
    expect(schemaToType({ $ref: '#/components/schemas/recommended-item' })).toBe('RecommendedItem');
    expect(refName('#/components/schemas/def-0')).toBe('Def0');
    expect(refName('#/components/schemas/0')).toBe('Schema0');
    expect(() => refName('other.json#/x')).toThrow(/unsupported \$ref/);
  });

  it('names operations by method and path', () => {
    expect(operationName('get', '/v1/recommendations')).toBe('GetRecommendations');
    expect(operationName('get', '/v1/items/{id}/similar')).toBe('GetItemsSimilar');
    expect(operationName('put', '/v1/users/{id}')).toBe('PutUsersById');
    expect(operationName('get', '/v1/impressions/{request_id}')).toBe('GetImpressionsByRequestId');
    expect(operationName('post', '/v1/decisions/{id}/reward')).toBe('PostDecisionsReward');
    // Outside /v1: `/metrics` (Prometheus) beside `/v1/metrics` (experiment metrics).
    expect(operationName('get', '/metrics')).toBe('GetRootMetrics');
    expect(operationName('get', '/v1/metrics')).toBe('GetMetrics');
  });
});

const tinySpec: OpenApiDocument = {
  components: {
    schemas: { Thing: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
  },
  paths: {
    '/v1/things/{id}': {
      get: {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'n', in: 'query', schema: { type: 'integer' }, description: 'How many.' },
          { name: 'tag', in: 'query', required: true, schema: { type: 'array', items: { type: 'string' } } },
          // Required in the schema, but the server fills in the default: a sender may leave it out.
          { name: 'limit', in: 'query', required: true, schema: { type: 'integer', default: 10 } },
        ],
        responses: {
          '404': { content: { 'application/json': { schema: { type: 'string' } } } },
          '200': {
            content: {
              'application/json': {
                schema: { type: 'object', properties: { thing: { $ref: '#/components/schemas/Thing' } } },
              },
            },
          },
        },
      },
      put: {
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { id: { type: 'string' }, size: { type: 'integer', default: 1 } },
                required: ['id', 'size'],
              },
            },
          },
        },
        responses: {
          '202': { content: { 'application/json': { schema: { const: 'queued' } } } },
          '201': { content: { 'application/json': { schema: { const: 'created' } } } },
        },
      },
      delete: { responses: { '204': { description: 'gone' } } },
    },
  },
};

describe('generateTypesSource', () => {
  it('writes one named type per reply (lowest 2xx), body and query, and the operation map', () => {
    const text = compact(generateTypesSource(tinySpec, 'tiny.json'));
    expect(text).toContain('export type Thing = { id: string; };');
    expect(text).toContain('export type GetThingsByIdReply = { thing?: Thing; };');
    expect(text).toContain(
      'export type GetThingsByIdQuery = { /** How many. */ n?: number; tag: string[]; limit?: number; };',
    );
    expect(text).toContain('export type PutThingsByIdBody = { id: string; size?: number; };');
    expect(text).toContain(
      '/** The 201 reply of `PUT /v1/things/{id}`. */ export type PutThingsByIdReply = "created";',
    );
    // A reply without content gets no type; the operation is still listed.
    expect(text).not.toContain('DeleteThingsByIdReply');
    expect(text).toContain('"DELETE /v1/things/{id}": Record<string, never>;');
    expect(text).toContain(
      '"GET /v1/things/{id}": { query: GetThingsByIdQuery; reply: GetThingsByIdReply; };',
    );
  });

  it('refuses two operations that would get the same name', () => {
    const spec: OpenApiDocument = { paths: { '/v1/a-b': { get: {} }, '/v1/a/b': { get: {} } } };
    expect(() => generateTypesSource(spec)).toThrow(/would both be named GetAB/);
  });

  it('writes TypeScript that compiles and means what the schemas say', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdk-types-'));
    try {
      await writeFile(join(dir, 'api.ts'), await generateTypes(tinySpec, 'tiny.json'));
      await writeFile(
        join(dir, 'use.ts'),
        [
          "import type { GetThingsByIdReply, GetThingsByIdQuery, PutThingsByIdReply, ApiOperations } from './api.js';",
          "export const ok: GetThingsByIdReply = { thing: { id: 'a' } };",
          "export const query: GetThingsByIdQuery = { tag: ['x'] };",
          "export const created: PutThingsByIdReply = 'created';",
          "export const body: ApiOperations['PUT /v1/things/{id}']['body'] = { id: 'b' };",
          '// @ts-expect-error: the thing needs its id',
          'export const bad: GetThingsByIdReply = { thing: {} };',
          '// @ts-expect-error: tag is required',
          'export const badQuery: GetThingsByIdQuery = { n: 1 };',
        ].join('\n'),
      );
      const program = ts.createProgram([join(dir, 'use.ts')], {
        strict: true,
        noEmit: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2022.d.ts'],
        skipLibCheck: true,
        types: [],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('packages/sdk/src/generated/api.ts', () => {
  it('is what docs/openapi.json gives now (else: run npm run sdk:types)', async () => {
    expect(
      existsSync(DEFAULT_SPEC),
      'docs/openapi.json is missing: the SDK types are generated from it',
    ).toBe(true);
    const fresh = await generateTypes(await readSpec(DEFAULT_SPEC));
    const committed = await readFile(DEFAULT_OUTPUT, 'utf8');
    expect(committed === fresh, 'the SDK types are stale: run npm run sdk:types').toBe(true);
  });
});
