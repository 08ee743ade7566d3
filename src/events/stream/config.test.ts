import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { batchMessageIdOf, checkStreamConfig, streamConfigFromEnv, streamLimits } from './config.js';
import type { StreamLogger } from './consumer.js';
import { EventStreamConfigError } from './errors.js';

describe('streamConfigFromEnv', () => {
  it('is null when ATTUNE_EVENT_STREAM is unset or blank', () => {
    expect(streamConfigFromEnv({})).toBeNull();
    expect(streamConfigFromEnv({ ATTUNE_EVENT_STREAM: '  ' })).toBeNull();
  });

  it('reads the URL with the default stream and subjects', () => {
    expect(streamConfigFromEnv({ ATTUNE_EVENT_STREAM: 'nats://127.0.0.1:4222' })).toEqual({
      url: 'nats://127.0.0.1:4222',
      stream: 'ATTUNE_EVENTS',
      subjectPrefix: 'attune.events',
    });
  });

  it('gives a custom stream name subjects of its own, apart from the default stream', () => {
    const config = streamConfigFromEnv({
      ATTUNE_EVENT_STREAM: 'nats://nats.internal:4222',
      ATTUNE_EVENT_STREAM_NAME: 'STAGING_EVENTS',
    });
    expect(config).toEqual({
      url: 'nats://nats.internal:4222',
      stream: 'STAGING_EVENTS',
      subjectPrefix: 'attune.stream.STAGING_EVENTS',
    });
  });

  it('accepts credentials and a missing port', () => {
    expect(streamConfigFromEnv({ ATTUNE_EVENT_STREAM: 'nats://attune:s3cret@nats:4222' })?.url).toBe(
      'nats://attune:s3cret@nats:4222',
    );
    expect(streamConfigFromEnv({ ATTUNE_EVENT_STREAM: 'nats://nats' })?.stream).toBe('ATTUNE_EVENTS');
  });

  it.each([
    ['127.0.0.1:4222', 'not a URL'],
    ['http://127.0.0.1:4222', 'unsupported scheme "http:"'],
    ['nats://127.0.0.1:4222/events', 'path, query or fragment'],
    ['nats://127.0.0.1:99999', 'not a URL'],
  ])('rejects %s naming the variable', (value, problem) => {
    const read = () => streamConfigFromEnv({ ATTUNE_EVENT_STREAM: value });
    expect(read).toThrow(EventStreamConfigError);
    expect(read).toThrow(/^ATTUNE_EVENT_STREAM: /);
    expect(read).toThrow(problem);
  });

  it('never repeats a URL that may carry a password', () => {
    expect(() => streamConfigFromEnv({ ATTUNE_EVENT_STREAM: 'redis://user:hunter2@host:1' })).toThrow(
      /^(?!.*hunter2)/s,
    );
  });

  it.each(['has.dot', 'has space', 'wild*', 'x'.repeat(65)])('rejects the stream name %j', (name) => {
    const read = () =>
      streamConfigFromEnv({ ATTUNE_EVENT_STREAM: 'nats://h:1', ATTUNE_EVENT_STREAM_NAME: name });
    expect(read).toThrow(EventStreamConfigError);
    expect(read).toThrow(/^ATTUNE_EVENT_STREAM_NAME: /);
  });
});

describe('checkStreamConfig and streamLimits', () => {
  it('names the field of a config made by hand', () => {
    const good = { url: 'nats://h:4222', stream: 'S', subjectPrefix: 'a.b' };
    expect(() => checkStreamConfig(good)).not.toThrow();
    expect(() => checkStreamConfig({ ...good, subjectPrefix: 'a.>' })).toThrow(/^subjectPrefix: /);
    expect(() => checkStreamConfig({ ...good, subjectPrefix: 'a..b' })).toThrow(/^subjectPrefix: /);
    expect(() => checkStreamConfig({ ...good, url: 'tls://h' })).toThrow(/^url: /);
  });

  it('fills defaults and rejects limits NATS cannot take', () => {
    expect(streamLimits({ maxBytes: 1024 })).toMatchObject({ maxBytes: 1024, duplicateWindowMs: 120_000 });
    expect(() => streamLimits({ replicas: 2 })).toThrow(/^limits\.replicas: /);
    expect(() => streamLimits({ duplicateWindowMs: 0 })).toThrow(/^limits\.duplicateWindowMs: /);
  });
});

describe('batchMessageIdOf', () => {
  it('names a batch by its event ids in order, apart from the per-event ids of earlier builds', () => {
    const id = batchMessageIdOf(['a', 'b']);
    expect(batchMessageIdOf(['a', 'b'])).toBe(id);
    expect(batchMessageIdOf(['b', 'a'])).not.toBe(id);
    // Joined ids must not collide with other splits of the same text.
    expect(batchMessageIdOf(['a,b'])).not.toBe(batchMessageIdOf(['a', 'b']));
    expect(batchMessageIdOf(['ab'])).not.toBe(batchMessageIdOf(['a', 'b']));
    // Header-safe, and never an event id as earlier builds sent it (plain ids hold no "~"; theirs
    // mapped ids were "~" and base64url).
    expect(id).toMatch(/^~~[A-Za-z0-9_-]{43}$/);
  });
});

describe('StreamLogger', () => {
  it('is satisfied by the engine’s pino logger', () => {
    const logger: StreamLogger = pino({ enabled: false });
    expect(() => logger.warn({ a: 1 }, 'message')).not.toThrow();
  });
});
