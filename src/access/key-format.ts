import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isScope, type Scope } from './scopes.js';

/**
 * An API key: `attune_<scope>_<id>_<secret>`. The scope in the text lets a person (and a secret scanner)
 * tell a public ingest key from an admin key at a glance; the id names the key in lists, the audit log
 * and revocation without revealing it; the secret is 32 random bytes (base64url), so a plain SHA-256 of
 * the key is a safe thing to store (no dictionary can reach it) and fast enough to check per request.
 */
const KEY_PATTERN = /^attune_(ingest|server|admin)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedKey {
  readonly scope: Scope;
  readonly id: string;
}

export function newKey(scope: Scope): { readonly id: string; readonly key: string } {
  const id = randomBytes(8).toString('hex');
  return { id, key: `attune_${scope}_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The key's scope and id, or null for text that is not an Attune key. */
export function parseKey(key: string): ParsedKey | null {
  const match = KEY_PATTERN.exec(key);
  if (match === null || !isScope(match[1])) return null;
  return { scope: match[1], id: match[2]! };
}

/** What the store keeps of a key: its SHA-256, hex (one-shot `crypto.hash`: checked on every request). */
export function keyHash(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Compares a presented key with a stored hash in time independent of where they differ. */
export function matchesHash(key: string, hash: string): boolean {
  const presented = Buffer.from(keyHash(key), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
