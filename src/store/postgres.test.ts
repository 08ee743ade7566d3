import { afterAll, describe } from 'vitest';

import { dropSchemas, openTestPostgresStore, postgresReachable } from './postgres.testing.js';
import { describeStoreContract } from './store.contract.js';

const available = await postgresReachable();
const created: string[] = [];

afterAll(async () => {
  if (available) await dropSchemas(created);
});

describe.skipIf(!available)('PostgreSQL store', () => {
  describeStoreContract('postgres', () => openTestPostgresStore(created));
});
