/**
 * @agora/core — what every room of Agora shares: the generated wire types and gRPC services,
 * resource arithmetic, batched streams, clocks, IDs, defaults and logging.
 */
export * from './wire.js';
export * as resources from './resources.js';
export type { Resources, Range } from './resources.js';
export { BatchWriter } from './stream.js';
export type { BatchWriterOptions, WritableStreamLike } from './stream.js';
export { systemClock, FakeClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { DEFAULTS, TASK_ENV, VERSION } from './defaults.js';
export { newId, newUuidBytes, uuidHex } from './ids.js';
export { createLogger, silentLogger, chooseLogFormat, resolveLogLevel, LOG_LEVELS } from './log.js';
export type { Logger, LogFormat, LogLevel } from './log.js';
export {
  grpc,
  CHANNEL_OPTIONS,
  AgentLinkService,
  ExecutorService,
  FilesService,
  OperatorService,
  SchedulerService,
  schedulerClient,
  agentLinkClient,
  executorClient,
  OperatorClient,
  FilesClient,
  bindServer,
  newServer,
  serverSecurity,
  stopServer,
  parseHostPort,
} from './grpc.js';
export type { SchedulerClient, AgentLinkClient, ExecutorClient } from './grpc.js';
export * from './security/index.js';
