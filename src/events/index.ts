// The events folder's public surface: what the API, the store and the trainers import.
export type { AppendResult, FeedbackKind, TrackedEvent } from './types.js';
export {
  DEFAULT_MAX_FUTURE_MS,
  EVENT_FIELDS,
  MAX_EVENT_NAME_LENGTH,
  MAX_EVENTS_PER_REQUEST,
  validateEventBatch,
} from './validate.js';
export type {
  EventBatchValidation,
  EventError,
  EventRedaction,
  EventValidationOptions,
  RecordRedactor,
  ValidEvent,
} from './validate.js';
export {
  defaultFeedbackConfig,
  FeedbackConfigError,
  feedbackOf,
  normalizeEventName,
  parseFeedbackConfig,
} from './feedback.js';
export type { FeedbackConfig } from './feedback.js';
export {
  FieldError,
  formatTime,
  ILL_FORMED,
  isWellFormed,
  MAX_ID_LENGTH,
  MAX_TIME,
  MIN_TIME,
  parseIsoTime,
  readId,
  readTime,
  SECONDS_HINT_END,
} from './fields.js';
