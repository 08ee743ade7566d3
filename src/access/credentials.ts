/**
 * The key a request carries: `Authorization: Bearer <key>`, or HTTP Basic with the key as the user name
 * (how Segment's and RudderStack's libraries send a write key; the password is empty). `null` when the
 * request carries none; `malformed` when the header is there but unreadable.
 */
export type Credential =
  | { readonly kind: 'bearer' | 'basic'; readonly key: string }
  | { readonly kind: 'malformed'; readonly reason: string };

export function credentialOf(authorization: string | undefined): Credential | null {
  if (authorization === undefined || authorization.trim() === '') return null;
  const space = authorization.indexOf(' ');
  const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : authorization.slice(space + 1).trim();
  if (scheme === 'bearer') {
    return value === ''
      ? { kind: 'malformed', reason: 'the Bearer authorization has no key' }
      : { kind: 'bearer', key: value };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    return user === ''
      ? { kind: 'malformed', reason: 'the Basic authorization has no user name (the key)' }
      : { kind: 'basic', key: user };
  }
  return { kind: 'malformed', reason: `unsupported authorization scheme "${scheme}"; send Bearer <key>` };
}
