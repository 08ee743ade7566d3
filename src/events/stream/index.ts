// The event stream in front of ingestion (optional, ATTUNE_EVENT_STREAM=nats://…): the API publishes
// validated events to NATS JetStream and answers once they are persisted; the worker consumes them into the
// store. README.md in this folder says how the pieces fit and what the lead wires where.
export {
  DEFAULT_STREAM_LIMITS,
  DEFAULT_STREAM_NAME,
  DEFAULT_SUBJECT_PREFIX,
  EVENT_STREAM_ENV,
  EVENT_STREAM_NAME_ENV,
  batchMessageIdOf,
  streamConfigFromEnv,
} from './config.js';
export type { EventStreamConfig, StreamLimits } from './config.js';
export {
  BATCH_FORMAT_VERSION,
  decodeEvent,
  decodeEvents,
  encodeEvent,
  encodeEvents,
  EVENT_FORMAT_VERSION,
} from './codec.js';
export { CONSUMER_NAME } from './connection.js';
export type { StreamLag } from './connection.js';
export { EventStreamConsumer } from './consumer.js';
export type { ConsumerStats, EventSink, EventStreamConsumerOptions, StreamLogger } from './consumer.js';
export { EventDecodeError, EventStreamConfigError, EventStreamUnavailableError } from './errors.js';
export { EventStreamPublisher } from './publisher.js';
export type { EventStreamPublisherOptions, PublisherStats, PublishResult } from './publisher.js';
