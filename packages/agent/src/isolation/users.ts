/**
 * Which OS user a container runs as.
 *
 * When the agent runs as root, every container gets a user of its own by default: a uid (gid
 * the same) taken from a configured range no account on the host uses, like systemd's
 * DynamicUser. A task then cannot read, signal or ptrace another task, and its sandbox (owned by
 * that uid, mode 0700) is closed to every other task. The uid is returned to the pool when the
 * container ends, after its sandbox was handed back to root, so a later holder of the same uid
 * cannot enter it. A task may instead name an existing user (CommandInfo.user, else
 * FrameworkInfo.user); whether a framework may use that user is the `allowUser` hook's call
 * (default: any user but root).
 *
 * When the agent is not root it cannot switch users: containers run as the agent's own user.
 */
import { readFileSync } from 'node:fs';
import type { Owner } from './isolator.js';

/** A container's user as decided at launch. */
export interface TaskUser extends Owner {
  /** The account name, or `agora-<uid>` for a dynamic user. */
  name: string;
  /** Taken from the dynamic range (returned to it when the container ends). */
  dynamic: boolean;
}

/** Decides whether a framework (by principal, '' when none) may run tasks as `user`. */
export type AllowUser = (frameworkPrincipal: string, user: string) => boolean;

/** The default policy: any existing user but root. */
export const allowNonRootUsers: AllowUser = (_principal, user) => user !== 'root';

/** An account of /etc/passwd. */
export function lookupUser(name: string, passwd?: string): Owner | undefined {
  let text = passwd;
  if (text === undefined) {
    try {
      text = readFileSync('/etc/passwd', 'utf8');
    } catch {
      return undefined;
    }
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) {
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    }
  }
  return undefined;
}

/** uids named in /etc/passwd (a dynamic uid must not be one of them). */
function accountUids(): Set<number> {
  const out = new Set<number>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const uid = Number(line.split(':')[2]);
      if (line && Number.isInteger(uid)) out.add(uid);
    }
  } catch { /* no passwd: nothing to avoid */ }
  return out;
}

/** Parses "61000-61999" into [first, last]; throws an Error naming the problem. */
export function parseUidRange(text: string): [number, number] {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last < first || last > 0xfffffffe) throw new Error(`option dynamicUidRange must look like 61000-61999 (first ≥ 1, last ≥ first), got '${text}'`);
  return [first, last];
}

/**
 * The pool of dynamic uids. Hands them out round-robin (the next after the last one given), so
 * a uid just released is the last to be reused.
 */
export class DynamicUsers {
  private readonly taken = new Set<number>();
  private readonly avoid: Set<number>;
  private next: number;

  constructor(private readonly first: number, private readonly last: number, avoid: Set<number> = accountUids()) {
    this.avoid = avoid;
    this.next = first;
  }

  /** A free uid, or undefined when every uid of the range is in use. */
  allocate(): TaskUser | undefined {
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const uid = this.next;
      this.next = uid >= this.last ? this.first : uid + 1;
      if (this.taken.has(uid) || this.avoid.has(uid)) continue;
      this.taken.add(uid);
      return { uid, gid: uid, name: `agora-${uid}`, dynamic: true };
    }
    return undefined;
  }

  /** Marks a uid as in use (a container recovered after an agent restart). */
  reserve(uid: number): boolean {
    if (uid < this.first || uid > this.last) return false;
    this.taken.add(uid);
    return true;
  }

  release(uid: number): void {
    this.taken.delete(uid);
  }

  get inUse(): number {
    return this.taken.size;
  }

  get range(): string {
    return `${this.first}-${this.last}`;
  }
}
