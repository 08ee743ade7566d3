import { endianness } from 'node:os';

import { isScope } from '../access/scopes.js';
import { isConsent, type Consent } from '../privacy/consent.js';
import type { Item, User } from '../catalog/types.js';
import type {
  DecisionClose,
  DecisionOutcome,
  DecisionPolicy,
  LoggedDecision,
  OutcomeSource,
} from '../decisions/points/log-types.js';
import type { TrackedEvent } from '../events/types.js';
import type { Exposure } from '../experiments/types.js';
import type { Impression, ImpressionItem } from '../recommendations/impression.js';
import { derivedOnce } from '../shared/frozen-memo.js';
import type { JsonValue, ScalarRecord } from '../shared/types.js';
import type {
  ArtifactInfo,
  Lease,
  NewArtifact,
  StoredApiKey,
  StoredArtifact,
  StoredDocument,
  UserItemTotal,
} from './types.js';

/*
 * Row ↔ object mapping for the SQL backends. Nested values (context, properties, attributes, traits,
 * categories, impression items, metadata) are stored as JSON text: they are read and written whole, never
 * queried inside, and JSON keeps numbers, booleans, null and strings exactly.
 *
 * Parameter tuples follow the column order of the statements in `sqlite-statements.ts`.
 */

export interface EventRow {
  readonly seq: number;
  readonly event_id: string;
  readonly name: string;
  readonly user_id: string;
  readonly item_id: string | null;
  readonly ts: number;
  readonly received_at: number;
  readonly context: string;
  readonly properties: string;
  readonly request_id: string | null;
}

export type EventParams = [
  eventId: string,
  name: string,
  userId: string,
  itemId: string | null,
  ts: number,
  receivedAt: number,
  context: string,
  properties: string,
  requestId: string | null,
];

export function eventParams(event: TrackedEvent): EventParams {
  return [
    event.eventId,
    event.name,
    event.userId,
    event.itemId,
    event.timestamp,
    event.receivedAt,
    JSON.stringify(event.context),
    JSON.stringify(event.properties),
    event.requestId,
  ];
}

export function eventFromRow(row: EventRow): TrackedEvent {
  return {
    eventId: row.event_id,
    name: row.name,
    userId: row.user_id,
    itemId: row.item_id,
    timestamp: row.ts,
    receivedAt: row.received_at,
    context: parseJson<ScalarRecord>(row.context),
    properties: parseJson<ScalarRecord>(row.properties),
    requestId: row.request_id,
  };
}

export interface ItemRow {
  readonly id: string;
  readonly categories: string;
  readonly tags: string;
  readonly price: number | null;
  readonly available: number;
  readonly created_at: number;
  readonly expires_at: number | null;
  readonly attributes: string;
  readonly updated_at: number;
}

export type ItemParams = [
  id: string,
  categories: string,
  tags: string,
  price: number | null,
  available: number,
  createdAt: number,
  expiresAt: number | null,
  attributes: string,
  updatedAt: number,
];

export function itemParams(item: Item): ItemParams {
  return [
    item.id,
    JSON.stringify(item.categories),
    JSON.stringify(item.tags),
    item.price,
    item.available ? 1 : 0,
    item.createdAt,
    item.expiresAt,
    JSON.stringify(item.attributes),
    item.updatedAt,
  ];
}

export function itemFromRow(row: ItemRow): Item {
  return {
    id: row.id,
    categories: parseJson<string[]>(row.categories),
    tags: parseJson<string[]>(row.tags),
    price: row.price,
    available: row.available !== 0,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    attributes: parseJson<ScalarRecord>(row.attributes),
    updatedAt: row.updated_at,
  };
}

export interface UserItemRow {
  readonly item_id: string;
  readonly name: string;
  readonly count: number;
  readonly last_ts: number;
  readonly last_seq: number;
}

export function userItemFromRow(row: UserItemRow): UserItemTotal {
  return {
    itemId: row.item_id,
    name: row.name,
    count: row.count,
    lastAt: row.last_ts,
    lastSeq: row.last_seq,
  };
}

export interface UserRow {
  readonly id: string;
  readonly traits: string;
  readonly created_at: number;
  readonly updated_at: number;
}

export type UserParams = [id: string, traits: string, createdAt: number, updatedAt: number];

export function userParams(user: User): UserParams {
  return [user.id, JSON.stringify(user.traits), user.createdAt, user.updatedAt];
}

export function userFromRow(row: UserRow): User {
  return {
    id: row.id,
    traits: parseJson<ScalarRecord>(row.traits),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface ImpressionRow {
  readonly request_id: string;
  readonly user_id: string;
  readonly created_at: number;
  readonly surface: string;
  readonly model: string;
  readonly model_version: number;
  readonly fallback: number;
  readonly items: string;
}

export type ImpressionParams = [
  requestId: string,
  userId: string,
  createdAt: number,
  surface: string,
  model: string,
  modelVersion: number,
  fallback: number,
  items: string,
];

/**
 * Serialised item lists, kept for frozen ones (`derivedOnce`): the engine logs every impression of a list
 * served again from its result cache with one frozen items array, so at 2,000 requests/s, most of them
 * repeats, the batch written every 50 ms is not a millisecond of JSON on the serving thread (0.6–1.6 ms per
 * flush before).
 */
const serialisedItems = new WeakMap<readonly ImpressionItem[], string>();

// Only the declared fields: a caller's richer objects must not leak extra keys into the log.
const itemsJson = (items: readonly ImpressionItem[]): string =>
  JSON.stringify(items.map(({ itemId, position, score }) => ({ itemId, position, score })));

export function impressionParams(impression: Impression): ImpressionParams {
  return [
    impression.requestId,
    impression.userId,
    impression.createdAt,
    impression.surface,
    impression.model,
    impression.modelVersion,
    impression.fallback ? 1 : 0,
    derivedOnce(serialisedItems, impression.items, itemsJson),
  ];
}

export function impressionFromRow(row: ImpressionRow): Impression {
  return {
    requestId: row.request_id,
    userId: row.user_id,
    createdAt: row.created_at,
    surface: row.surface,
    model: row.model,
    modelVersion: row.model_version,
    fallback: row.fallback !== 0,
    items: parseJson<ImpressionItem[]>(row.items),
  };
}

export interface ExposureRow {
  readonly experiment: string;
  readonly user_id: string;
  readonly variant: string;
  readonly at: number;
}

export type ExposureParams = [experiment: string, userId: string, variant: string, at: number];

export function exposureParams(exposure: Exposure): ExposureParams {
  return [exposure.experiment, exposure.userId, exposure.variant, exposure.at];
}

export function exposureFromRow(row: ExposureRow): Exposure {
  return { experiment: row.experiment, userId: row.user_id, variant: row.variant, at: row.at };
}

/** A definition stored as a document with a revision: an experiment or a decision point. */
export interface DocumentRow {
  readonly id: string;
  readonly revision: number;
  readonly body: string;
}

export function documentFromRow(row: DocumentRow): StoredDocument {
  return { id: row.id, revision: row.revision, body: parseJson<JsonValue>(row.body) };
}

export interface DecisionRow {
  readonly id: string;
  readonly point: string;
  readonly user_id: string;
  readonly at: number;
  readonly context: string;
  readonly features: Buffer;
  readonly offered: string;
  readonly probabilities: string;
  readonly action: string;
  readonly propensity: number;
  readonly policy: string;
  readonly experiment: string | null;
  readonly deadline: number;
  readonly reward: number | null;
  readonly outcome_at: number | null;
  readonly outcome_source: string | null;
}

export type DecisionParams = [
  id: string,
  point: string,
  userId: string,
  at: number,
  context: string,
  /** A Buffer on this thread; a Uint8Array once it crossed to the background thread. */
  features: Uint8Array,
  offered: string,
  probabilities: string,
  action: string,
  propensity: number,
  policy: string,
  experiment: string | null,
  deadline: number,
  ...OutcomeParams,
];

/** The outcome columns in order (reward, outcome_at, outcome_source): all null while the decision is open. */
export type OutcomeParams = [reward: number | null, at: number | null, source: string | null];

export function outcomeParams(outcome: DecisionOutcome | null): OutcomeParams {
  return outcome === null ? [null, null, null] : [outcome.reward, outcome.at, outcome.source];
}

export function decisionParams(decision: LoggedDecision): DecisionParams {
  return [
    decision.id,
    decision.point,
    decision.userId,
    decision.at,
    JSON.stringify(decision.context),
    featuresBlob(decision.features),
    JSON.stringify(decision.offered),
    JSON.stringify(decision.probabilities),
    decision.action,
    decision.propensity,
    decision.policy,
    // Only the declared fields, as for impressions.
    decision.experiment === null
      ? null
      : JSON.stringify({ id: decision.experiment.id, variant: decision.experiment.variant }),
    decision.deadline,
    ...outcomeParams(decision.outcome),
  ];
}

export function decisionFromRow(row: DecisionRow): LoggedDecision {
  return {
    id: row.id,
    point: row.point,
    userId: row.user_id,
    at: row.at,
    context: parseJson<Record<string, JsonValue>>(row.context),
    features: featuresFromBlob(row.features),
    offered: parseJson<string[]>(row.offered),
    probabilities: parseJson<number[]>(row.probabilities),
    action: row.action,
    propensity: row.propensity,
    policy: row.policy as DecisionPolicy,
    experiment: row.experiment === null ? null : parseJson<{ id: string; variant: string }>(row.experiment),
    deadline: row.deadline,
    outcome: outcomeFromRow(row),
  };
}

export function outcomeFromRow(
  row: Pick<DecisionRow, 'reward' | 'outcome_at' | 'outcome_source'>,
): DecisionOutcome | null {
  const { reward, outcome_at: at, outcome_source: source } = row;
  if (source === null) return null;
  // The three are written together (`outcomeParams`); anything else is a damaged row.
  if (reward === null || at === null)
    throw new Error('A stored decision has an outcome source but no reward');
  return { reward, at, source: source as OutcomeSource };
}

const LITTLE_ENDIAN = endianness() === 'LE';
const FLOAT64_BYTES = 8;

/**
 * A feature row as the bytes of little-endian float64s, bit for bit (-0, subnormals and infinities
 * included). On a little-endian machine a view of the array's own bytes, which SQLite copies while binding.
 */
export function featuresBlob(features: Float64Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(features.buffer, features.byteOffset, features.byteLength);
  const bytes = Buffer.alloc(features.byteLength);
  features.forEach((value, index) => bytes.writeDoubleLE(value, index * FLOAT64_BYTES));
  return bytes;
}

/** The inverse of `featuresBlob`, into an array of its own (the driver's Buffer may be an unaligned slice). */
export function featuresFromBlob(blob: Buffer): Float64Array {
  if (blob.byteLength % FLOAT64_BYTES !== 0) {
    throw new Error(`A stored feature row has ${blob.byteLength} bytes, not a whole number of float64s`);
  }
  const features = new Float64Array(blob.byteLength / FLOAT64_BYTES);
  if (LITTLE_ENDIAN) new Uint8Array(features.buffer).set(blob);
  else for (let i = 0; i < features.length; i++) features[i] = blob.readDoubleLE(i * FLOAT64_BYTES);
  return features;
}

export interface ArtifactInfoRow {
  readonly name: string;
  readonly version: number;
  readonly created_at: number;
  readonly meta: string;
  readonly bytes: number;
}

export interface ArtifactRow {
  readonly name: string;
  readonly version: number;
  readonly created_at: number;
  readonly meta: string;
  readonly payload: Buffer;
}

/** Named parameters: the insert names `@name` twice (the row and the version lookup). */
export interface ArtifactParams {
  readonly name: string;
  readonly createdAt: number;
  readonly meta: string;
  readonly payload: Buffer;
}

export function artifactParams(artifact: NewArtifact): ArtifactParams {
  const { payload } = artifact;
  // A view, not a copy: SQLite copies the bytes while binding. Honours byteOffset for subarray payloads.
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return {
    name: artifact.name,
    createdAt: artifact.createdAt,
    meta: JSON.stringify(artifact.meta),
    payload: bytes,
  };
}

export function artifactFromRow(row: ArtifactRow): StoredArtifact {
  return {
    name: row.name,
    version: row.version,
    createdAt: row.created_at,
    meta: parseJson<JsonValue>(row.meta),
    payload: ownedBytes(row.payload),
  };
}

export function artifactInfoFromRow(row: ArtifactInfoRow): ArtifactInfo {
  return {
    name: row.name,
    version: row.version,
    createdAt: row.created_at,
    meta: parseJson<JsonValue>(row.meta),
    bytes: row.bytes,
  };
}

export interface LeaseRow {
  readonly name: string;
  readonly holder: string;
  readonly acquired_at: number;
  readonly expires_at: number;
}

export function leaseFromRow(row: LeaseRow): Lease {
  return { name: row.name, holder: row.holder, acquiredAt: row.acquired_at, expiresAt: row.expires_at };
}

export function consentFromRow(value: string): Consent {
  if (!isConsent(value)) throw new Error(`unknown consent "${value}" in the store`);
  return value;
}

export interface ApiKeyRow {
  readonly id: string;
  readonly app: string;
  readonly scope: string;
  readonly name: string | null;
  readonly hash: string;
  readonly created_at: number;
  readonly revoked_at: number | null;
}

export function apiKeyToRow(key: StoredApiKey): ApiKeyRow {
  return {
    id: key.id,
    app: key.app,
    scope: key.scope,
    name: key.name,
    hash: key.hash,
    created_at: key.createdAt,
    revoked_at: key.revokedAt,
  };
}

export function apiKeyFromRow(row: ApiKeyRow): StoredApiKey {
  if (!isScope(row.scope)) throw new Error(`api key ${row.id}: unknown scope "${row.scope}" in the store`);
  return {
    id: row.id,
    app: row.app,
    scope: row.scope,
    name: row.name,
    hash: row.hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export interface AuditRow {
  readonly seq: number;
  readonly at: number;
  readonly app: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly status: number;
}

/**
 * Models read payloads through Float32Array/Int32Array views, which need an aligned byte offset, and a
 * Buffer may be a slice of a shared pool. So a payload always starts at offset 0 of a buffer of its own;
 * the copy only happens when the driver handed back such a slice.
 */
export function ownedBytes(buffer: Buffer): Uint8Array {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength) {
    return new Uint8Array(buffer.buffer, 0, buffer.byteLength);
  }
  return new Uint8Array(buffer);
}

/** Stored JSON is only ever written by this module, so its shape is known. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** One close of the serving path's decision log: the outcome, then the decision's id. */
export type DecisionCloseParams = [...OutcomeParams, id: string];

/** A batch of the serving path's decision log, as rows: appends, then closes (`Store.writeDecisionLog`). */
export interface DecisionLogRows {
  readonly appends: readonly DecisionParams[];
  readonly closes: readonly DecisionCloseParams[];
}

export function decisionLogRows(
  appends: readonly LoggedDecision[],
  closes: readonly DecisionClose[],
): DecisionLogRows {
  return {
    appends: appends.map(decisionParams),
    closes: closes.map((close): DecisionCloseParams => [...outcomeParams(close.outcome), close.id]),
  };
}
