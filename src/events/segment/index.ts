// Segment's tracking spec in Attune's terms: what `api/segment-spec.ts` imports.
export { MAX_MESSAGES_PER_BATCH, MESSAGE_TYPES, translateBatch, translateMessage } from './messages.js';
export type {
  IdentityMerge,
  MessageType,
  SegmentOptions,
  SegmentResult,
  SegmentTranslation,
  TraitUpdate,
} from './messages.js';
export { attuneEventName } from './ecommerce.js';
