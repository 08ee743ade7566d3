import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postEvents, openTestApp, type TestApp } from '../../test/helpers.js';

describe('POST /v1/events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp();
  });
  afterAll(() => t.close());

  // Found by fuzzing every endpoint (test/fuzz.test.ts, issue 12): an empty batch was a 400 whose body named
  // no error at all. It refuses nothing, as an empty bulk of items does not.
  it('answers an empty batch with 200 and nothing accepted', async () => {
    const reply = await postEvents(t.app, { events: [] });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toEqual({ accepted: 0, duplicates: 0, rejected: 0, errors: [] });
  });

  it('still answers 400 when every event of a batch is refused', async () => {
    const reply = await postEvents(t.app, { events: [{ event: 'viewed' }] });
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.errors).toEqual([{ index: 0, field: 'user_id', message: 'user_id is required' }]);
  });
});
