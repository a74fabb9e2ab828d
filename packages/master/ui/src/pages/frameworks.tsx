/** Every framework with its roles, connection and tasks by state. */
import { EmptyRow, Flag, Header, Id } from '../components/common.js';
import { formatCpus, formatMem, formatTime, stateLabel } from '../format.js';
import { useFreshResources } from '../hooks.js';
import { useLive } from '../live.js';
import { href } from '../router.js';

export function Frameworks() {
  const s = useLive();
  useFreshResources('frameworks');
  const frameworks = [...s.frameworks.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section>
      <Header title={`Frameworks (${frameworks.length})`} />
      <table class="grid" data-testid="frameworks">
        <thead>
          <tr><th>name</th><th>ID</th><th>roles</th><th>state</th><th>cpus</th><th>memory</th><th>tasks</th><th>registered</th></tr>
        </thead>
        <tbody>
          {frameworks.length === 0 && <EmptyRow cols={8} text="No framework has subscribed." />}
          {frameworks.map((f) => {
            const counts = Object.entries(f.taskCounts ?? {}).filter(([, n]) => n > 0);
            return (
              <tr key={f.id}>
                <td>{f.name}{f.webuiUrl && <> <span class="muted small">(api)</span></>}</td>
                <td><a href={href('tasks', { frameworkId: f.id })}><Id value={f.id} /></a></td>
                <td>{(f.roles ?? []).join(', ') || '*'}</td>
                <td>{f.active ? <Flag on={f.connected} yes="connected" no="disconnected" /> : <span class="badge idle">inactive</span>}</td>
                <td class="num">{formatCpus(f.resources?.allocated?.cpus ?? 0)}</td>
                <td class="num">{formatMem(f.resources?.allocated?.mem ?? 0)}</td>
                <td>{counts.length === 0 ? <span class="muted">none</span> : counts.map(([st, n]) => (
                  <a key={st} class="chip" href={href('tasks', { frameworkId: f.id, state: st })}>{stateLabel(st)} {n}</a>
                ))}</td>
                <td>{formatTime(f.registeredTime)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
