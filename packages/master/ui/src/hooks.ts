/** Data-loading hooks shared by the pages. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { live } from './live.js';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (null: nothing to load) and again every `everyMs` if given; a newer request
 * aborts an older one, so a slow answer never overwrites a fresher one.
 */
export function useJson<T>(path: string | null, everyMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    if (path === null) return;
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path, ctrl.signal).then(
      (data) => setState({ data, loading: false }),
      (err: Error) => { if (err.name !== 'AbortError') setState((s) => ({ ...s, error: err.message, loading: false })); },
    );
    return () => ctrl.abort();
  }, [path, tick]);
  useEffect(() => {
    if (!everyMs || path === null) return;
    const id = setInterval(reload, everyMs);
    return () => clearInterval(id);
  }, [everyMs, path, reload]);
  return { ...state, reload };
}

/** Calls `fn` every `ms` while mounted (and `enabled`); the latest `fn` is always the one called. */
export function useInterval(fn: () => void, ms: number, enabled = true): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!enabled) return;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms, enabled]);
}

/** Keeps the live store's agents or frameworks (with their allocations) fresh while mounted. */
export function useFreshResources(kind: 'agents' | 'frameworks', everyMs = 3000): void {
  useEffect(() => { void live.refresh(kind); }, [kind]);
  useInterval(() => void live.refresh(kind), everyMs);
}
