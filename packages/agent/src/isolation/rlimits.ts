/**
 * The fallback isolator where cgroups cannot be created: POSIX rlimits set by the task's wrapper
 * before the command starts (inherited by every child).
 *
 *  - memory: `ulimit -d` (RLIMIT_DATA: since Linux 4.7 all private writable memory), so an
 *    allocation past the limit fails inside the task instead of the kernel killing it — the
 *    agent cannot tell such a failure from any other, hence no MEMORY limitation is reported;
 *    RLIMIT_AS (`ulimit -v`) is not used because runtimes such as V8 reserve far more address
 *    space than they use;
 *  - pids: `ulimit -p` (RLIMIT_NPROC) counts every process of the *user*, so it is only set
 *    when the task has a user of its own (a dynamic user), never for tasks sharing the agent's;
 *  - cpu: no rlimit holds a process to a share of a core; not enforced.
 */
import { NoIsolator, type Limits, type Owner, type Prepared } from './isolator.js';

/** Nothing to place, measure or remove: only prepare() differs from NoIsolator. */
export class RlimitIsolator extends NoIsolator {
  override readonly kind = 'rlimits';

  /** @param ownUser true when `owner` given to prepare() is a user no other task shares */
  constructor(private readonly why: string, private readonly ownUser: (owner: Owner | undefined) => boolean) {
    super();
  }

  override describe(): string {
    return `rlimits (${this.why}): memory as RLIMIT_DATA, pids as RLIMIT_NPROC for tasks with a user of their own; cpu is not limited`;
  }

  override prepare(_id: string, limits: Limits, owner: Owner | undefined): Prepared {
    const prelude: string[] = [];
    if (limits.memMiB !== undefined && limits.memMiB > 0) prelude.push(`ulimit -d ${Math.ceil(limits.memMiB * 1024)} || exit 125`);
    if (limits.pidsMax !== undefined && limits.pidsMax > 0 && this.ownUser(owner)) prelude.push(`ulimit -p ${Math.floor(limits.pidsMax)} || exit 125`);
    return { prelude };
  }

  override update(): void {
    // rlimits of a running process cannot be changed from outside it (prlimit aside); the
    // limits set at launch stay.
  }
}
