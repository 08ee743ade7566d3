/**
 * `npm run openapi`: writes the HTTP API's OpenAPI document to docs/openapi.json, generated from the route
 * schemas (src/api/openapi-document.ts). test/openapi.test.ts fails when the checked-in file is stale.
 */
import { writeFile } from 'node:fs/promises';

import { renderOpenApiDocument } from '../src/api/openapi-document.js';

const target = new URL('../docs/openapi.json', import.meta.url);
const text = await renderOpenApiDocument();
await writeFile(target, text);
const { paths } = JSON.parse(text) as { paths: Record<string, Record<string, unknown>> };
const operations = Object.values(paths).reduce((n, path) => n + Object.keys(path).length, 0);
process.stdout.write(
  `wrote docs/openapi.json: ${operations} operations on ${Object.keys(paths).length} paths\n`,
);
