/** Recursive chown without following symlinks (lchown), for files the agent put in a sandbox. */
import { lchownSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Gives `dir` and everything under it to uid:gid. Throws on the first failure. */
export function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}
