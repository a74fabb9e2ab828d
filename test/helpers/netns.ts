/**
 * Processes inside network namespaces for the multi-host chaos tests: each runs as
 * `ip netns exec NS argv…`, in a process group of its own (so the test can signal the whole
 * tree), with its stdout and stderr collected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
