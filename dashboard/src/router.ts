import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/users/user-0001`): the engine serves one index.html, and every view is a fragment the
 * browser never sends, so user and item ids stay out of server logs.
 */
export interface Route {
  /** The first segment: 'overview', 'events', 'users', … */
  readonly page: string;
  /** The decoded second segment, when there is one: a user, item or experiment id. */
  readonly id: string | null;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const page = parts[0] === undefined || parts[0] === '' ? 'overview' : parts[0];
  const rest = parts.slice(1).join('/');
  let id: string | null = null;
  if (rest !== '') {
    try {
      id = decodeURIComponent(rest);
    } catch {
      id = rest;
    }
  }
  return { page, id };
}

export function href(page: string, id?: string | null): string {
  return id === undefined || id === null ? `#/${page}` : `#/${page}/${encodeURIComponent(id)}`;
}

export function navigate(page: string, id?: string | null): void {
  location.hash = href(page, id);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
