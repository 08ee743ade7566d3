import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson } from './api';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | Error | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * A GET of `path` (null: nothing to load yet), redone when the path changes or `reload` is called, and
 * every `refreshMs` when given. A newer request aborts the older one, so a slow reply never overwrites a
 * newer one.
 */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [state, setState] = useState<{
    data?: T;
    error?: ApiError | Error;
    loading: boolean;
    path: string | null;
  }>({ loading: path !== null, path });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    if (path === null) {
      setState({ loading: false, path });
      return;
    }
    const controller = new AbortController();
    setState((s) => (s.path === path ? { ...s, loading: true } : { loading: true, path }));
    getJson<T>(path, controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, loading: false, path });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false, path });
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  useInterval(reload, refreshMs ?? null);

  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload,
  };
}

/** Calls `callback` every `ms` while the tab is visible (null: never). */
export function useInterval(callback: () => void, ms: number | null): void {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (ms === null) return;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') saved.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms]);
}

/** The value after it has stopped changing for `ms` (typing in a filter box). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return settled;
}

/**
 * The width of an element in CSS pixels, kept current: SVG charts draw at their real size, so their text
 * stays at the page's font size instead of scaling with a viewBox.
 */
export function useWidth<T extends HTMLElement>(fallback: number): [{ current: T | null }, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (element === null) return;
    const measure = () => {
      const w = Math.round(element.clientWidth);
      if (w > 0) setWidth(w);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
