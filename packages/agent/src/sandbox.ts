/**
 * Sandbox layout and task environment (the contract's "Sandboxes and tasks"):
 * `workDir/agents/<A>/frameworks/<F>/executors/<E>/runs/<R>/` with `stdout` and `stderr`.
 */
import path from 'node:path';
import { resources as R, TASK_ENV, type CommandInfo, type Resource } from '@agora/core';

/**
 * Checks that an ID can name a directory without escaping its parent. Returns a sentence
 * naming the problem, or undefined when fine.
 */
export function checkIdForPath(kind: string, id: string): string | undefined {
  if (!id) return `${kind} is empty`;
  if (id === '.' || id === '..' || id.includes('/') || id.includes('\\') || id.includes('\u0000')) {
    return `${kind} '${id}' cannot name a directory (no '/', '\\', NUL, '.' or '..')`;
  }
  if (id.length > 200) return `${kind} is longer than 200 characters`;
  return undefined;
}

/** The directory holding every run of one executor. */
export function executorRunsDir(workDir: string, agentId: string, frameworkId: string, executorId: string): string {
  return path.join(workDir, 'agents', agentId, 'frameworks', frameworkId, 'executors', executorId, 'runs');
}

/** The sandbox of one run of an executor. */
export function sandboxDir(workDir: string, agentId: string, frameworkId: string, executorId: string, runId: string): string {
  return path.join(executorRunsDir(workDir, agentId, frameworkId, executorId), runId);
}

/** Ports assigned to a task: every port of its `ports` resources, lowest first. */
export function assignedPorts(resources: readonly Resource[] | null | undefined): number[] {
  const ports: number[] = [];
  for (const [b, e] of R.rangesOfName(resources ?? [], 'ports')) {
    // A task asking for a huge range would blow up its environment; PORTS lists at most 1000.
    for (let p = b; p <= e && ports.length < 1000; p++) ports.push(p);
  }
  return ports;
}

/** What every task and executor process is told about itself. */
export interface TaskEnvInput {
  taskId?: string;
  frameworkId: string;
  agentId: string;
  executorId: string;
  sandbox: string;
  hostname: string;
  resources?: readonly Resource[] | null;
  command?: CommandInfo | null;
  extra?: Record<string, string>;
}

/**
 * The environment of a task: AGORA_* identity, HOST, PORT0…PORTn, PORT (= PORT0, as Marathon),
 * PORTS, then the command's own variables (VALUE and SECRET alike), which win on conflicts.
 */
export function taskEnvironment(i: TaskEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    [TASK_ENV.frameworkId]: i.frameworkId,
    [TASK_ENV.agentId]: i.agentId,
    [TASK_ENV.executorId]: i.executorId,
    [TASK_ENV.sandbox]: i.sandbox,
    HOST: i.hostname,
  };
  if (i.taskId !== undefined) env[TASK_ENV.taskId] = i.taskId;
  const ports = assignedPorts(i.resources);
  ports.forEach((p, n) => { env[`PORT${n}`] = String(p); });
  if (ports.length > 0) {
    env.PORT = String(ports[0]);
    env[TASK_ENV.ports] = ports.join(',');
  }
  if (i.extra) Object.assign(env, i.extra);
  for (const v of i.command?.environment?.variables ?? []) {
    if (v.name) env[v.name] = v.value ?? '';
  }
  return env;
}

/** argv of a CommandInfo: `/bin/sh -c value` for shell commands, else `value` with `arguments`. */
export function commandArgv(command: CommandInfo): { file: string; args: string[]; argv0?: string } {
  if (command.shell !== false) return { file: '/bin/sh', args: ['-c', command.value ?? ''] };
  // Mesos passes `arguments` as the whole argv, argv[0] included.
  const argv = command.arguments ?? [];
  if (argv.length === 0) return { file: command.value ?? '', args: [] };
  return { file: command.value ?? '', args: argv.slice(1), argv0: argv[0] as string };
}
