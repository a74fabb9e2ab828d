/**
 * Processes inside network namespaces for the multi-host chaos tests: each runs as
 * `ip netns exec NS argv…`, in a process group of its own (so the test can signal the whole
 * tree), with its stdout and stderr collected.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ROOT } from './processes.js';

/** A process started in a namespace and everything it printed so far. */
export interface NsProcess {
  child: ChildProcess;
  output: () => string;
}

/** Starts `argv` in namespace `ns` with AGORA_LOG_LEVEL `logLevel`; records it in `children`. */
export function runInNamespace(ns: string, argv: string[], children: ChildProcess[], logLevel: string): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AGORA_LOG_LEVEL: logLevel },
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, output: () => out };
}

/** Runs `ip ARGS…`; throws with ip's own message when it fails. */
export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Runs `ip ARGS…` inside namespace `ns`. */
export const inNs = (ns: string, ...args: string[]): void => ip('netns', 'exec', ns, 'ip', ...args);

/** Why namespaces cannot be made here (not root, no iproute2), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'the `ip` command (iproute2) is missing';
  return undefined;
}

/** Deletes the namespaces (those missing are ignored), then makes them afresh with loopback up. */
export function makeNamespaces(names: readonly string[]): void {
  deleteNamespaces(names);
  for (const ns of names) {
    ip('netns', 'add', ns);
    inNs(ns, 'link', 'set', 'lo', 'up');
  }
}

/** Deletes the namespaces, ignoring those already gone. */
export function deleteNamespaces(names: readonly string[]): void {
  for (const ns of names) spawnSync('ip', ['netns', 'delete', ns]);
}
