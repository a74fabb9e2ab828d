/** Every agent with its state and resources. */
import { EmptyRow, Flag, Header, Id, Meter } from '../components/common.js';
import { formatCpus, formatMem, formatTime } from '../format.js';
import { useFreshResources } from '../hooks.js';
import { useLive } from '../live.js';
import { href } from '../router.js';

export function Agents() {
  const s = useLive();
  useFreshResources('agents');
  const agents = [...s.agents.values()].sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
  return (
    <section>
      <Header title={`Agents (${agents.length})`} />
      <table class="grid" data-testid="agents">
        <thead>
          <tr><th>ID</th><th>host</th><th>address</th><th>state</th><th>cpus</th><th>memory</th><th>tasks</th><th>registered</th></tr>
        </thead>
        <tbody>
          {agents.length === 0 && <EmptyRow cols={8} text="No agent has registered." />}
          {agents.map((a) => (
            <tr key={a.id} data-agent-id={a.id}>
              <td><a href={href('tasks', { agentId: a.id })}><Id value={a.id} /></a></td>
              <td>{a.hostname}</td>
              <td><code>{a.address}</code></td>
              <td>
                {a.unreachable ? <Flag on yes="unreachable" no="" bad /> : <Flag on={a.active} yes="active" no="inactive" />}
                {a.draining && <> <span class="badge busy">draining</span></>}
              </td>
              <td><Meter used={a.resources?.allocated?.cpus ?? 0} total={a.resources?.total?.cpus ?? 0} format={formatCpus} /></td>
              <td><Meter used={a.resources?.allocated?.mem ?? 0} total={a.resources?.total?.mem ?? 0} format={formatMem} /></td>
              <td class="num">{a.taskCount}</td>
              <td>{formatTime(a.registeredTime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
