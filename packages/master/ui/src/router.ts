/**
 * A hash router: `#/tasks/ID?path=x` → { parts: ['tasks', 'ID'], query }. The hash keeps every
 * view a plain link the master serves as the one index.html.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

/** Parses a location hash. */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query };
}

/** A link target: href('tasks', id) → '#/tasks/ID'; query values that are empty are left out. */
export function href(...args: Array<string | Record<string, string | undefined>>): string {
  const parts: string[] = [];
  const params = new URLSearchParams();
  for (const a of args) {
    if (typeof a === 'string') parts.push(encodeURIComponent(a));
    else for (const [k, v] of Object.entries(a)) if (v) params.set(k, v);
  }
  const qs = params.toString();
  return `#/${parts.join('/')}${qs ? `?${qs}` : ''}`;
}

/** The current route; re-renders the caller when the hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Changes the query of the current view without adding a history entry per keystroke. */
export function replaceQuery(route: Route, changes: Record<string, string | undefined>): void {
  const params = new URLSearchParams(route.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v) params.set(k, v);
    else params.delete(k);
  }
  const qs = params.toString();
  const target = `#/${route.parts.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
  history.replaceState(null, '', target);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
