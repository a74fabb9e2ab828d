/**
 * Records the framework keeps (and persists): app versions, instances, deployments — and the
 * API errors its operations raise.
 */
import type { AppSpec, FieldError } from './app.js';
import type { InstanceState } from './planner.js';

/** One stored version of an app. */
export interface AppRecord {
  spec: AppSpec;
  /** When this version was stored (ISO 8601): every change, scaling included. */
  version: string;
  /** When the configuration (anything but `instances`) last changed: instances of another config version are "old". */
  configVersion: string;
}

export interface Instance {
  taskId: string;
  appId: string;
  configVersion: string;
  /** The app version the instance was launched for. */
  version: string;
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
  ports: number[];
  state: InstanceState;
  launchedAt: number;
  startedAt?: number;
  healthy?: boolean;
  everHealthy?: boolean;
  failing?: boolean;
  ready?: boolean;
  killReason?: string;
  killSentAt?: number;
  unreachableSince?: number;
  inactive?: boolean;
  /** Last health/readiness probe outcome in words. */
  healthDetail?: string;
}

export type DeploymentKind = 'create' | 'scale' | 'restart' | 'update' | 'delete' | 'rollback';
export type DeploymentStatus = 'running' | 'stalled';

export interface Deployment {
  id: string;
  appId: string;
  kind: DeploymentKind;
  /** The version this deployment moves the app to (ISO). */
  version: string;
  /** The app before (undefined: it did not exist) — what DELETE rolls back to. */
  from?: AppRecord;
  /** The target (undefined: the app is removed). */
  to?: AppRecord;
  createdAt: string;
  status: DeploymentStatus;
  /** In words, what the current step waits for. */
  waitingFor: string;
  /** Last time the plan moved (an instance launched, became healthy, stopped…), ms. */
  progressAt: number;
  /** Progress must happen within this, else the deployment is reported stalled (never silently hung). */
  stepTimeoutSeconds: number;
  /** Last seen counts, to detect progress. */
  fingerprint?: string;
}

/** An error the REST API maps to a status code. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly details?: FieldError[]) {
    super(message);
    this.name = 'ApiError';
  }
}
