import { Flags } from '@oclif/core';
import { agora } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { oneLine } from '../errors.js';
import { durationFlag, jsonFlag, masterFlag } from '../flags.js';
import { withRoles } from '../roles-client.js';
import { shortState, toJson } from '../table.js';
import { renderTop, totals, type TopSnapshot } from '../top-view.js';

/** How many tasks the master is asked for (the frame shows the newest that fit). */
const TASK_LIMIT = 200;
const ESC = '\u001b[';

export default class TopCommand extends BaseCommand {
  static override summary = 'A live view of the cluster in the terminal: resources allocated/total, roles, agents, frameworks, newest tasks.';
  static override description = 'Redraws every --interval; q or Ctrl-C quits. With --once (or when stdout is not a terminal) prints one frame and exits.';
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --interval 500ms', '<%= config.bin %> top --once --json'];
  static override flags = {
    master: masterFlag,
    interval: durationFlag({ summary: 'Time between refreshes, e.g. 2s or 500ms.', default: 2000 }),
    once: Flags.boolean({ summary: 'Print one frame and exit (for scripts and pipes).', default: false }),
    json: { ...jsonFlag, summary: 'With --once: print the figures as JSON.' } as typeof jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TopCommand);
    const snapshot = async (): Promise<TopSnapshot> => {
      const [state, roles] = await Promise.all([
        this.withOperator(flags.master, (c) => c.getState({ taskLimit: TASK_LIMIT })),
        withRoles(flags.master, (c) => c.getRoles()).then((r) => r.roles ?? [], () => []),
      ]);
      return { state, roles, at: Date.now() };
    };
    const interactive = Boolean(process.stdout.isTTY) && !flags.once && !flags.json;
    const first = await snapshot();
    if (!interactive) {
      if (flags.json) this.printJson(summary(first));
      else process.stdout.write(`${renderTop(first, process.stdout.columns || Number(process.env.COLUMNS) || 120, process.stdout.rows || 60).join('\n')}\n`);
      return;
    }
    await live(first, snapshot, flags.interval);
  }
}

/** The figures of one frame as JSON. */
function summary(s: TopSnapshot): Record<string, unknown> {
  const tasks: Record<string, number> = {};
  for (const t of s.state.tasks ?? []) tasks[shortState(t.state)] = (tasks[shortState(t.state)] ?? 0) + 1;
  return {
    at: new Date(s.at).toISOString(),
    master: s.state.masterInfo?.address ?? '',
    agents: { active: (s.state.agents ?? []).filter((a) => a.active).length, known: (s.state.agents ?? []).length },
    frameworks: { active: (s.state.frameworks ?? []).filter((f) => f.active).length, known: (s.state.frameworks ?? []).length },
    tasks,
    resources: totals(s.state),
    roles: s.roles.map((r) => toJson(agora.v1.RoleState, r as agora.v1.RoleState)),
  };
}

/** Redraws in the alternate screen until q / Ctrl-C / SIGTERM. */
function live(first: TopSnapshot, snapshot: () => Promise<TopSnapshot>, intervalMs: number): Promise<void> {
  return new Promise((resolve) => {
    let last = first;
    let problem = '';
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const draw = (): void => {
      const width = process.stdout.columns || 80;
      const height = process.stdout.rows || 24;
      const lines = renderTop(last, width, height - 1);
      const footer = problem ? `! ${problem} (showing ${new Date(last.at).toISOString().slice(11, 19)})` : 'q quits';
      process.stdout.write(`${ESC}H${[...lines, footer.slice(0, width)].map((l) => `${l}${ESC}K`).join('\n')}${ESC}J`);
    };
    const tick = async (): Promise<void> => {
      try {
        last = await snapshot();
        problem = '';
      } catch (err) {
        problem = oneLine(err);
      }
      if (done) return;
      draw();
      timer = setTimeout(() => void tick(), intervalMs);
    };
    const quit = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      process.stdout.off('resize', draw);
      process.off('SIGINT', quit);
      process.off('SIGTERM', quit);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stdout.write(`${ESC}?25h${ESC}?1049l`);
      resolve();
    };
    // The alternate screen keeps the user's scrollback; the cursor is hidden while drawing.
    process.stdout.write(`${ESC}?1049h${ESC}?25l`);
    process.stdout.on('resize', draw);
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (d: Buffer) => {
        const k = d.toString();
        if (k === 'q' || k === 'Q' || k === '\u0003' || k === '\u0004') quit();
      });
    }
    draw();
    timer = setTimeout(() => void tick(), intervalMs);
  });
}
