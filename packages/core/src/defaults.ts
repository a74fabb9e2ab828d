/**
 * Every default a user can rely on, in one place (the README's "Defaults" table mirrors it).
 */
export const DEFAULTS = {
  /** Master gRPC port (schedulers, agents, operator API). */
  masterPort: 5050,
  /** Agent gRPC port (executors). */
  agentPort: 5060,
  /** Host every service binds to unless told otherwise. */
  bindHost: '127.0.0.1',
  /** Work directory of `agora local`. */
  workDir: './.agora',
  /** Seconds between master → scheduler HEARTBEAT events and agent → master heartbeats. */
  heartbeatIntervalSeconds: 5,
  /** An agent silent this long is considered gone (rescinds its offers). */
  agentPingTimeoutSeconds: 10,
  /** Seconds an offer stays outstanding before the master rescinds it. */
  offerTimeoutSeconds: 60,
  /** Filter length when DECLINE gives none (Mesos default). */
  refuseSeconds: 5,
  /** SIGTERM → SIGKILL grace when the task's kill policy gives none. */
  killGracePeriodSeconds: 3,
  /** How long allocation waits to batch events after the first one. */
  allocationBatchMs: 5,
  /** Allocation also runs at least this often (expired filters, timeouts). */
  allocationIntervalMs: 1000,
  /** First retry delay of an unacknowledged status update; doubles up to the max. */
  statusUpdateRetryMs: 1000,
  statusUpdateRetryMaxMs: 60_000,
  /** Reconnect backoff of agents and schedulers. */
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
  /** Seconds a custom executor has to subscribe before its tasks fail. */
  executorRegistrationTimeoutSeconds: 60,
  /** Completed tasks the master keeps for the operator API. */
  maxCompletedTasks: 10_000,
} as const;

/** Environment variables the agent gives every task and executor. */
export const TASK_ENV = {
  taskId: 'AGORA_TASK_ID',
  frameworkId: 'AGORA_FRAMEWORK_ID',
  agentId: 'AGORA_AGENT_ID',
  executorId: 'AGORA_EXECUTOR_ID',
  sandbox: 'AGORA_SANDBOX',
  /** host:port of the agent's gRPC server, for custom executors. */
  agentEndpoint: 'AGORA_AGENT_ENDPOINT',
  /** The cluster CA (PEM text) when the agent serves TLS, for custom executors to verify it. */
  agentTlsCa: 'AGORA_AGENT_TLS_CA',
  /** Comma-separated assigned ports; PORT0…PORTn hold them one by one. */
  ports: 'PORTS',
} as const;

/** Version of Agora as reported by masters and agents. */
export const VERSION = '0.1.0';
