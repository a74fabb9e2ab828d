/**
 * Adds `id` to (or removes it from) the set kept under `key`, dropping empty sets so that a
 * secondary index (tasks by agent, offers by framework, …) never grows with keys it no longer has.
 */
export function index(map: Map<string, Set<string>>, key: string, id: string, add: boolean): void {
  let s = map.get(key);
  if (add) {
    if (!s) map.set(key, (s = new Set()));
    s.add(id);
  } else if (s) {
    s.delete(id);
    if (s.size === 0) map.delete(key);
  }
}
