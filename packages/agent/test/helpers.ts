import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@agora/core';
import { startAgent, type Agent, type AgentOptions } from '@agora/agent';
import { FakeMaster } from './fake-master.js';

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'agora-agent-test-'));
}

/** A fake master and an agent registered with it, on ephemeral ports in a temp work dir. */
export async function setup(extra: Partial<AgentOptions> = {}): Promise<{ master: FakeMaster; agent: Agent; workDir: string; cleanup: () => Promise<void> }> {
  const master = await new FakeMaster().start();
  const workDir = extra.workDir ?? tempDir();
  const agent = await startAgent({
    master: master.address,
    port: 0,
    workDir,
    resources: 'cpus:2;mem:1024;disk:1000;ports:[31000-31010]',
    logger: silentLogger(),
    ...extra,
  });
  return {
    master,
    agent,
    workDir,
    cleanup: async () => {
      await agent.stop();
      await master.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** True while a process exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
