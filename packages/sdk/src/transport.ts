import { AttuneError } from './errors.js';
import type { CommonOptions } from './types.js';

export type Method = 'GET' | 'POST' | 'PUT';

/**
 * How far a request may be retried: `all` when sending it twice is harmless (reads, events with their ids,
 * traits, exposures), `unprocessed` when it is not (a decision), so only replies that say the engine did
 * not act on it (429, 503) are retried, never a lost reply.
 */
export type Retry = 'all' | 'unprocessed';

export interface RequestOptions {
  readonly retry?: Retry;
  /** Let the request outlive the page (page hide); bodies up to 64 KB. */
  readonly keepalive?: boolean;
}

export type Send = <T>(method: Method, path: string, body?: unknown, options?: RequestOptions) => Promise<T>;

type Settings = Pick<
  CommonOptions,
  'host' | 'maxRetries' | 'retryDelayMs' | 'maxRetryDelayMs' | 'timeoutMs' | 'fetch'
>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `Retry-After` in ms: delta seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The wait before try `attempt` (1 = the first retry): exponential, with jitter so clients spread out. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** A JSON request function over `fetch` with one credential, retrying as `Retry` allows. */
export function createTransport(settings: Settings, authorization: string): Send {
  const host = settings.host.replace(/\/+$/, '');
  const maxRetries = settings.maxRetries ?? 4;
  const baseMs = settings.retryDelayMs ?? 200;
  const maxMs = settings.maxRetryDelayMs ?? 30_000;
  const timeoutMs = settings.timeoutMs ?? 10_000;

  return async function send<T>(method: Method, path: string, body?: unknown, options: RequestOptions = {}) {
    const doFetch = settings.fetch ?? fetch;
    for (let attempt = 0; ; attempt++) {
      let error: AttuneError;
      let waitMs: number | null = null;
      try {
        const response = await doFetch(host + path, {
          method,
          headers: {
            authorization,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? null : JSON.stringify(body),
          keepalive: options.keepalive === true,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        let json: unknown = null;
        try {
          json = text === '' ? null : JSON.parse(text);
        } catch {
          // Not JSON (a proxy's error page): described by its status below.
        }
        if (response.ok) return json as T;
        const reported = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
          ?.error;
        error = new AttuneError(
          response.status,
          typeof reported?.code === 'string' ? reported.code : `http_${response.status}`,
          typeof reported?.message === 'string'
            ? reported.message
            : `${method} ${path}: HTTP ${response.status}`,
          reported?.details,
        );
        waitMs = retryAfterMs(response.headers.get('retry-after'));
      } catch (thrown) {
        const timeout = (thrown as { name?: string }).name === 'TimeoutError';
        error = new AttuneError(
          0,
          timeout ? 'timeout' : 'network_error',
          `${method} ${path}: ${timeout ? `no reply within ${timeoutMs} ms` : String(thrown)}`,
        );
      }
      const unprocessed = error.status === 429 || error.status === 503;
      const again = error.retryable && (options.retry === 'all' || unprocessed);
      if (!again || attempt >= maxRetries) throw error;
      await sleep(Math.min(maxMs, Math.max(waitMs ?? 0, backoffMs(attempt + 1, baseMs, maxMs))));
    }
  };
}

/** `a b/c` → `a%20b%2Fc`: ids are path segments. */
export const segment = encodeURIComponent;

/** A query string from options; arrays repeat their key, absent values are left out. */
export function query(params: { readonly [key: string]: unknown }): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
