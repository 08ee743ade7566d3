import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { call, openTestApp, type ErrorReply, type TestApp } from '../../test/helpers.js';

// Found by fuzzing every endpoint (test/fuzz.test.ts, issue 12): Ajv's "must NOT have additional properties"
// named no property, so a client could not tell which field was unknown.
describe('schema errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp();
  });
  afterAll(() => t.close());

  it('name the unknown field, at the top of a body and within it', async () => {
    const top = await call<ErrorReply>(t.app, 'POST', '/v1/rank', {
      user_id: 'u1',
      items: ['i1'],
      userId: 'u1',
    });
    expect(top.status).toBe(400);
    expect(top.body.error.message).toBe('body must not have the unknown field "userId"');
    const inner = await call<ErrorReply>(t.app, 'POST', '/v1/experiments', {
      id: 'e1',
      variants: [{ name: 'control' }, { name: 'b', wieght: 2 }],
    });
    expect(inner.status).toBe(400);
    expect(inner.body.error.message).toBe('body field "variants.1" must not have the unknown field "wieght"');
  });
});
