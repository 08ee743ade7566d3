/**
 * What instances of one deployment tell each other: each change names what another instance must forget or
 * read again, never the data itself (the store holds that), so a message is small and a lost one costs a
 * stale cache, never lost data. The wire form is JSON with a version field: an instance ignores (and counts)
 * what it cannot read rather than guessing, and fields it does not know are dropped, so a later release may
 * add fields to version 1 without breaking older instances.
 */

/** The wire format's version. A change that older instances would misread needs a new one. */
export const CLUSTER_MESSAGE_VERSION = 1;

/** Events were stored for these users (about these items): drop their cached state and read it again. */
export interface EventsChange {
  readonly type: 'events';
  readonly app: string;
  readonly users: readonly string[];
  readonly items: readonly string[];
}

/** A new model version was saved: load it if it is newer than the one serving. */
export interface BundleChange {
  readonly type: 'bundle';
  readonly app: string;
  readonly version: number;
}

/** These catalog items were changed or deleted. */
export interface CatalogChange {
  readonly type: 'catalog';
  readonly app: string;
  readonly items: readonly string[];
}

/** A user was erased: forget everything held about them. */
export interface ErasedChange {
  readonly type: 'erased';
  readonly app: string;
  readonly user: string;
}

/** A user's consent changed. */
export interface ConsentChange {
  readonly type: 'consent';
  readonly app: string;
  readonly user: string;
}

/** A user's stored traits changed. */
export interface UserChange {
  readonly type: 'user';
  readonly app: string;
  readonly user: string;
}

/** User `from` was merged into `to` (the store moved `from`'s events): forget both. */
export interface MergedChange {
  readonly type: 'merged';
  readonly app: string;
  readonly from: string;
  readonly to: string;
}

/** What a caller publishes; the bus adds the version and its instance id. */
export type ClusterChange =
  EventsChange | BundleChange | CatalogChange | ErasedChange | ConsentChange | UserChange | MergedChange;

/** The kinds of change, for exhaustive switches and validation. */
export type ClusterChangeType = ClusterChange['type'];

/** What travels between instances and what listeners receive: a change, its format version, its sender. */
export type ClusterMessage = ClusterChange & {
  readonly v: typeof CLUSTER_MESSAGE_VERSION;
  /** The sending instance's id; an instance ignores messages carrying its own. */
  readonly sender: string;
};

/**
 * Sent by an instance whose publisher dropped messages once it can publish again, so the others know they
 * missed something from it even though their own subscriptions never broke. Bus-internal: listeners see it
 * as a `ClusterResync` with reason `peer-dropped`.
 */
export interface PeerResyncWire {
  readonly v: typeof CLUSTER_MESSAGE_VERSION;
  readonly type: 'resync';
  readonly sender: string;
}

/** Everything a channel carries. */
export type ClusterWire = ClusterMessage | PeerResyncWire;

/** The one text form of a wire message. */
export function encodeClusterWire(wire: ClusterWire): string {
  return JSON.stringify(wire);
}

type Fields = Record<string, unknown>;

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function ids(value: unknown): readonly string[] | null {
  if (!Array.isArray(value)) return null;
  for (const id of value) if (!isId(id)) return null;
  return value as string[];
}

/**
 * A wire message from its text, or why it cannot be read. Never throws: the channel is shared with every
 * instance of every release, so anything may arrive on it.
 */
export function parseClusterWire(
  text: string,
): { ok: true; wire: ClusterWire } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not an object' };
  }
  const fields = value as Fields;
  if (fields['v'] !== CLUSTER_MESSAGE_VERSION)
    return { ok: false, reason: `unknown version ${String(fields['v'])}` };
  const sender = fields['sender'];
  if (!isId(sender)) return { ok: false, reason: 'sender must be a non-empty string' };
  const v = CLUSTER_MESSAGE_VERSION;
  const type = fields['type'];
  if (type === 'resync') return { ok: true, wire: { v, type, sender } };
  const app = fields['app'];
  if (!isId(app)) return { ok: false, reason: 'app must be a non-empty string' };
  const invalid = (field: string, what: string) => ({
    ok: false as const,
    reason: `${String(type)}: ${field} must be ${what}`,
  });
  switch (type) {
    case 'events': {
      const users = ids(fields['users']);
      const items = ids(fields['items']);
      if (users === null) return invalid('users', 'an array of non-empty strings');
      if (items === null) return invalid('items', 'an array of non-empty strings');
      return { ok: true, wire: { v, sender, type, app, users, items } };
    }
    case 'bundle': {
      const version = fields['version'];
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
        return invalid('version', 'a positive integer');
      }
      return { ok: true, wire: { v, sender, type, app, version } };
    }
    case 'catalog': {
      const items = ids(fields['items']);
      if (items === null) return invalid('items', 'an array of non-empty strings');
      return { ok: true, wire: { v, sender, type, app, items } };
    }
    case 'erased':
    case 'consent':
    case 'user': {
      const user = fields['user'];
      if (!isId(user)) return invalid('user', 'a non-empty string');
      return { ok: true, wire: { v, sender, type, app, user } };
    }
    case 'merged': {
      const from = fields['from'];
      const to = fields['to'];
      if (!isId(from)) return invalid('from', 'a non-empty string');
      if (!isId(to)) return invalid('to', 'a non-empty string');
      return { ok: true, wire: { v, sender, type, app, from, to } };
    }
    default:
      return { ok: false, reason: `unknown type ${JSON.stringify(type) ?? 'undefined'}` };
  }
}
