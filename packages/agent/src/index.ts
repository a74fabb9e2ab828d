/**
 * @agora/agent — runs tasks for an Agora master.
 *
 * ```ts
 * import { startAgent } from '@agora/agent';
 * const agent = await startAgent({ master: '127.0.0.1:5050', port: 0, workDir: '/var/lib/agora/agent' });
 * console.log(agent.agentId, agent.address);
 * await agent.stop();   // kills its tasks
 * ```
 */
export { Agent, startAgent } from './agent.js';
export type { AgentOptions } from './options.js';
export type { TaskRunner, ProcessSpec, ProcessExit, RunningProcess } from './runner.js';
export { ExecaTaskRunner } from './runner-execa.js';
export { detectResources, parseResourceOverrides, memAfterReserve, diskAfterReserve, DEFAULT_PORT_RANGE } from './resources-detect.js';
export type { DetectResourcesOptions } from './resources-detect.js';
export { parseAttributes } from './attributes.js';
export type { AgentSecurityOptions } from './security.js';
