/**
 * @agora/sdk — everything a framework author needs to write an Agora framework: a scheduler
 * that is offered resources and launches tasks, optionally its own executor, and resource
 * helpers. The bundled frameworks use nothing else.
 *
 * ```ts
 * import { SchedulerDriver, commandTask, offerFits, idOf, isTerminalState } from '@agora/sdk';
 *
 * const driver = new SchedulerDriver({
 *   master: '127.0.0.1:5050',
 *   framework: { name: 'hello' },
 *   callbacks: {
 *     resourceOffers(d, offers) {
 *       for (const offer of offers) {
 *         if (offerFits(offer, { cpus: 0.1, mem: 32 })) d.launch(idOf(offer.id), [commandTask(offer, { name: 'hi', command: 'echo hi' })]);
 *         else d.decline(idOf(offer.id));
 *       }
 *     },
 *     statusUpdate(d, status) { if (isTerminalState(status.state)) void d.stop(); },
 *   },
 * });
 * await driver.start();
 * ```
 *
 * Or consume `for await (const event of driver.events())` instead of (or besides) callbacks.
 * In tests, `startCluster({ agents: 2 })` gives a real master and agents on loopback ports.
 */
export { SchedulerDriver } from './scheduler-driver.js';
export type { SchedulerCallbacks, SchedulerDriverOptions, SchedulerEvent } from './scheduler-driver.js';
export { ExecutorDriver } from './executor-driver.js';
export type { ExecutorCallbacks, ExecutorDriverOptions, ExecutorDriverEvent, ExecutorStatusUpdate } from './executor-driver.js';
export { commandTask, executorTask, offerFits, offerRole, newTaskId } from './offers.js';
export type { CommandTaskSpec, ExecutorTaskSpec, ResourceNeed } from './offers.js';
export { startCluster } from './test-cluster.js';
export type { StartClusterOptions, TestCluster, Master, MasterOptions, Agent, AgentOptions } from './test-cluster.js';

export {
  resources,
  TaskState,
  TaskStatusReason,
  TaskStatusSource,
  OperationType,
  ExecutorInfoType,
  FrameworkCapability,
  taskStateName,
  reasonName,
  isTerminalState,
  idOf,
  uuidHex,
  DEFAULTS,
  TASK_ENV,
  FakeClock,
  systemClock,
  createLogger,
  silentLogger,
  httpsServerOptions,
  readSecretFile,
  checkBindSafety,
} from '@agora/core';
export type {
  Resources,
  Range,
  Resource,
  Attribute,
  Labels,
  CommandInfo,
  ExecutorInfo,
  TaskInfo,
  TaskGroupInfo,
  TaskStatus,
  KillPolicy,
  HealthCheck,
  FrameworkInfo,
  AgentInfo,
  MasterInfo,
  Offer,
  Operation,
  InverseOffer,
  Filters,
  Clock,
  Logger,
  TlsOptions,
  Credential,
  HttpsServerOptions,
} from '@agora/core';
