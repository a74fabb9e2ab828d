/**
 * The master's authorization questions, answered from the ACLs (core's `authorize`). Every
 * method returns undefined when allowed, or the sentence to refuse with. With no ACLs
 * configured everything is allowed — except what authentication alone decides (a framework
 * may not claim another principal's name, nor take over another principal's framework).
 */
import { authorize, type AclAction, type Acls, type FrameworkInfo, type Resource, type TaskInfo } from '@agora/core';

/** What the master knows about a task when a sandbox is asked for. */
export interface SandboxSubject {
  /** The OS user the task runs as (its command's user, else its framework's). */
  user: string;
  frameworkId?: string;
}

export class MasterAuthorizer {
  constructor(readonly acls: Acls | undefined) {}

  private check(action: AclAction, principal: string | undefined, object: string): string | undefined {
    const v = authorize(this.acls, action, principal, object);
    return v.allowed ? undefined : v.reason;
  }

  /**
   * SUBSCRIBE: the framework's claimed principal must be the authenticated one (when there is
   * one), a re-subscription must come from the principal that registered the framework, and
   * the principal must be allowed every role it asks for.
   */
  subscribe(authenticated: string | undefined, info: FrameworkInfo, existingPrincipal: string | undefined): string | undefined {
    const claimed = info.principal ?? '';
    if (authenticated && claimed && claimed !== authenticated) {
      return `framework_info.principal '${claimed}' does not match the authenticated principal '${authenticated}'`;
    }
    const principal = authenticated || claimed || undefined;
    if (existingPrincipal !== undefined && (existingPrincipal || authenticated) && existingPrincipal !== (principal ?? '')) {
      return `framework '${info.id?.value ?? ''}' was registered by principal '${existingPrincipal || '(none)'}'; principal '${principal ?? '(none)'}' may not take it over`;
    }
    for (const role of info.roles?.length ? info.roles : ['*']) {
      const denied = this.check('register_frameworks', principal, role);
      if (denied) return denied;
    }
    return undefined;
  }

  /** The OS user a task would run as: its command's user, else its executor's, else the framework's. */
  static userOf(task: TaskInfo, framework: FrameworkInfo): string {
    return task.command?.user || task.executor?.command?.user || framework.user || '';
  }

  /** LAUNCH / LAUNCH_GROUP of one task by a framework. */
  runTask(framework: FrameworkInfo, task: TaskInfo): string | undefined {
    const user = MasterAuthorizer.userOf(task, framework);
    const denied = this.check('run_tasks', framework.principal || undefined, user);
    return denied ? `task '${task.taskId?.value ?? ''}': ${denied}` : undefined;
  }

  /** RESERVE of these resources (each names its role in its last reservation). */
  reserve(principal: string | undefined, list: readonly Resource[]): string | undefined {
    for (const r of list) {
      const role = r.reservations?.[r.reservations.length - 1]?.role ?? '';
      const denied = this.check('reserve_resources', principal, role);
      if (denied) return denied;
    }
    return undefined;
  }

  /** UNRESERVE: allowed per principal that made the reservation. */
  unreserve(principal: string | undefined, list: readonly Resource[]): string | undefined {
    for (const r of list) {
      const reserver = r.reservations?.[r.reservations.length - 1]?.principal ?? '';
      const denied = this.check('unreserve_resources', principal, reserver);
      if (denied) return denied;
    }
    return undefined;
  }

  /** Tearing down a framework registered by `frameworkPrincipal` ('' when it has none). */
  teardown(principal: string | undefined, frameworkPrincipal: string): string | undefined {
    return this.check('teardown_frameworks', principal, frameworkPrincipal);
  }

  /** UpdateRole: a weight change and/or a quota change of `role`. */
  updateRole(principal: string | undefined, role: string, weight: boolean, quota: boolean): string | undefined {
    return (weight ? this.check('update_weights', principal, role) : undefined) ?? (quota ? this.check('update_quotas', principal, role) : undefined);
  }

  /** An operator API method by name (e.g. 'GetState'). */
  operatorMethod(principal: string | undefined, method: string): string | undefined {
    return this.check('operator_api', principal, method);
  }

  /** An agent registering with `hostname`. */
  registerAgent(principal: string | undefined, hostname: string): string | undefined {
    return this.check('register_agents', principal, hostname);
  }

  /** Draining or reactivating the agent on `hostname`. */
  drainAgent(principal: string | undefined, hostname: string): string | undefined {
    return this.check('drain_agents', principal, hostname);
  }

  /**
   * Reading a task's sandbox (files, stdout, stderr). For the master's file routes and any
   * other reader of sandboxes: call it with the authenticated principal.
   */
  accessSandbox(principal: string | undefined, subject: SandboxSubject): string | undefined {
    return this.check('access_sandboxes', principal, subject.user);
  }
}
