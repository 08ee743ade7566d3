/**
 * Every call the dashboard makes goes through here: same-origin JSON API routes, the admin key from the
 * sign-in screen as `Authorization: Bearer`, kept in sessionStorage (gone when the tab closes). A 401
 * tells the shell to show the sign-in screen; an engine running open (no key configured, loopback) never
 * answers 401, so it never asks.
 */

const KEY_STORAGE = 'attune.adminKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setStoredKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Storage refused (private mode): the key lives as long as the page.
  }
  memoryKey = key;
}

let memoryKey: string | null = storedKey();

function headers(key: string | null): HeadersInit {
  return key === null ? {} : { authorization: `Bearer ${key}` };
}

interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string };
}

async function parse<T>(response: Response): Promise<T> {
  const type = response.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const error = (typeof body === 'object' && body !== null ? (body as ErrorBody).error : undefined) ?? {};
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? `${response.status} ${response.statusText}`,
    );
  }
  return body as T;
}

/** GET a JSON route. Throws ApiError for any non-2xx reply (401 also tells the shell to sign in). */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: headers(memoryKey), signal: signal ?? null });
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  return parse<T>(response);
}

/**
 * Checks a key before keeping it: an admin-only route answers 200 for an admin key, 401 for an unknown
 * one and 403 for a key of a lesser scope.
 */
export async function checkKey(key: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const response = await fetch('/v1/models', { headers: headers(key) });
  if (response.ok) return { ok: true };
  try {
    await parse(response);
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 401) return { ok: false, message: 'That key is not valid for this engine.' };
      if (error.status === 403)
        return { ok: false, message: 'That key works, but it lacks the admin scope.' };
      return { ok: false, message: error.message };
    }
  }
  return { ok: false, message: `The engine answered ${response.status}.` };
}

/** Query string from the defined entries. */
export function query(
  params: Readonly<Record<string, string | number | boolean | undefined | null>>,
): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export const enc = encodeURIComponent;
