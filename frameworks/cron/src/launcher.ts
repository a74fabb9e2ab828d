/**
 * How the cron executor starts run processes. Two starters with one interface:
 *
 *  - `PosixSpawnStarter` (the default where `python3` ≥ 3.8 exists): a small long-lived helper
 *    process that starts each run with posix_spawn (vfork + exec) in a process group of its
 *    own, and reports its pid and, later, its exit, as JSON lines.
 *  - `NodeStarter` (the fallback): child_process.spawn from the executor itself.
 *
 * Why a helper: Node's spawn forks the whole executor (≈70 MB of page tables to copy) and
 * blocks the event loop until the child has exec'd. On this project's 2-core VM that is 60–110
 * starts a second per process, falling to ~30 when several executors fork at once, while a
 * posix_spawn from a 10 MB process manages ≈280 a second; and starts that are late by a fork
 * queue are exactly the start jitter a cron framework is judged by. The helper is written in
 * Python because it is there on nearly every Linux host, and its standard library exposes
 * posix_spawn with process groups and file actions (Node's does not).
 *
 * The helper knows nothing of runs: it only starts and reaps. If it is missing or dies, the
 * executor uses NodeStarter from then on; runs the helper started and that still run are
 * reported by the caller (their exits can no longer be learnt).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

/** What to start. */
export interface StartRequest {
  /** Unique among the runs in flight (the task ID). */
  id: string;
  file: string;
  args: string[];
  /** argv[0] (default: file). */
  argv0?: string;
  cwd: string;
  env: Record<string, string>;
  /** Files appended to as stdout / stderr. */
  stdout: string;
  stderr: string;
}

/** How a started process ended: an exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A started process: its pid (also its process group) and its end. */
export interface Started {
  pid: number;
  exited: Promise<Exit>;
}

/** Starts processes, each in a process group of its own. */
export interface ProcessStarter {
  /** 'posix_spawn' or 'node': for logs and metrics. */
  readonly kind: string;
  /** Resolves once the process runs (exec done); rejects when it could not be started. */
  start(req: StartRequest): Promise<Started>;
  /** Stops the starter (started processes keep running). */
  close(): void;
}

/** child_process.spawn from this process. */
export class NodeStarter implements ProcessStarter {
  readonly kind = 'node';

  start(req: StartRequest): Promise<Started> {
    let out: number | undefined;
    let err: number | undefined;
    try {
      out = openSync(req.stdout, 'a');
      err = openSync(req.stderr, 'a');
      const child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', out, err], ...(req.argv0 ? { argv0: req.argv0 } : {}) });
      if (child.pid === undefined) {
        // spawn failed (ENOENT, EACCES …): the 'error' event names why.
        return new Promise((_, reject) => child.once('error', (e) => reject(new Error(`cannot start ${req.file}: ${e.message}`))));
      }
      child.once('error', () => { /* reported through 'exit' */ });
      const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      return Promise.resolve({ pid: child.pid, exited });
    } catch (e) {
      return Promise.reject(new Error(`cannot start: ${(e as Error).message}`));
    } finally {
      if (out !== undefined) closeQuietly(out);
      if (err !== undefined) closeQuietly(err);
    }
  }

  close(): void { /* nothing held */ }
}

/** The helper: reads one JSON request per line, answers {id,pid} / {id,error}, then {id,code|signal}. */
const HELPER = String.raw`
import json, os, select, shutil, signal, sys
if not hasattr(os, 'posix_spawn'):
    sys.exit(3)
rd, wr = os.pipe()
os.set_blocking(rd, False)
os.set_blocking(wr, False)
signal.set_wakeup_fd(wr)
signal.signal(signal.SIGCHLD, lambda *_: None)
pids = {}
out = sys.stdout
def emit(o):
    out.write(json.dumps(o) + '\n')
    out.flush()
def reap():
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        rid = pids.pop(pid, None)
        if rid is None:
            continue
        if os.WIFSIGNALED(st):
            emit({'id': rid, 'signal': os.WTERMSIG(st)})
        else:
            emit({'id': rid, 'code': os.WEXITSTATUS(st)})
FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT
def start(r):
    rid = r.get('id')
    try:
        fa = [(os.POSIX_SPAWN_OPEN, 0, '/dev/null', os.O_RDONLY, 0),
              (os.POSIX_SPAWN_OPEN, 1, r['stdout'], FLAGS, 0o644),
              (os.POSIX_SPAWN_OPEN, 2, r['stderr'], FLAGS, 0o644)]
        # Like Node's spawn: a bare name is looked up in the run's PATH, not in ours.
        path = r['file'] if '/' in r['file'] else shutil.which(r['file'], path=r['env'].get('PATH', os.defpath))
        if path is None:
            raise FileNotFoundError(2, 'No such file or directory')
        os.chdir(r['cwd'])
        try:
            pid = os.posix_spawn(path, [r.get('argv0') or r['file']] + r['args'], r['env'], file_actions=fa,
                                 setpgroup=0, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD))
        finally:
            os.chdir('/')
    except OSError as e:
        emit({'id': rid, 'error': '%s: %s' % (r.get('file'), e.strerror or e)})
        return
    except Exception as e:
        # A NUL byte, an '=' in an env name, an unencodable string: this run fails, not the helper.
        emit({'id': rid, 'error': '%s: %s' % (r.get('file'), e)})
        return
    pids[pid] = rid
    emit({'id': rid, 'pid': pid})
emit({'ready': True})
buf = b''
while True:
    try:
        ready, _, _ = select.select([0, rd], [], [])
    except InterruptedError:
        continue
    if rd in ready:
        try:
            os.read(rd, 4096)
        except BlockingIOError:
            pass
        reap()
    if 0 in ready:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b'\n')
        for line in lines:
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError:
                continue
            start(req)
        reap()
`;

/** The posix_spawn helper (see the module comment). Use `PosixSpawnStarter.open()`. */
export class PosixSpawnStarter implements ProcessStarter {
  readonly kind = 'posix_spawn';
  private readonly waiting = new Map<string, { resolve: (s: Started) => void; reject: (e: Error) => void }>();
  private readonly ends = new Map<string, (e: Exit) => void>();
  private buf = '';
  private dead = false;

  private constructor(private readonly child: ChildProcess, private readonly onDeath: (running: string[]) => void) {}

  /**
   * Starts the helper; undefined when it cannot run here (no python3, too old, not answering
   * within `timeoutMs`). If it dies later, `onDeath` is told the IDs of the processes it had
   * started that had not ended.
   */
  static open(onDeath: (running: string[]) => void, python = 'python3', timeoutMs = 5000): Promise<PosixSpawnStarter | undefined> {
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        // Its own SIGINT/SIGTERM would kill it before the executor: it ends on stdin's EOF.
        child = spawn(python, ['-I', '-S', '-c', HELPER], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
      } catch {
        resolve(undefined);
        return;
      }
      const starter = new PosixSpawnStarter(child, onDeath);
      let settled = false;
      const settle = (v: PosixSpawnStarter | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!v) starter.kill();
        resolve(v);
      };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      child.once('error', () => settle(undefined));
      // 'close', not 'exit': the exits it reported just before dying are read first.
      child.once('close', () => { starter.died(); settle(undefined); });
      child.stdin!.on('error', () => { /* a dead helper: 'exit' handles it */ });
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => starter.read(d, () => settle(starter)));
    });
  }

  start(req: StartRequest): Promise<Started> {
    if (this.dead) return Promise.reject(new Error('the process starter is gone'));
    return new Promise<Started>((resolve, reject) => {
      this.waiting.set(req.id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id: req.id, file: req.file, args: req.args, argv0: req.argv0, cwd: req.cwd, env: req.env, stdout: req.stdout, stderr: req.stderr })}\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
  }

  private kill(): void {
    try { this.child.kill('SIGKILL'); } catch { /* gone */ }
  }

  private read(data: string, ready: () => void): void {
    this.buf += data;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let m: { ready?: boolean; id?: string; pid?: number; error?: string; code?: number; signal?: number };
      try { m = JSON.parse(line) as typeof m; } catch { continue; }
      if (m.ready) { ready(); continue; }
      const id = m.id ?? '';
      if (m.pid !== undefined || m.error !== undefined) {
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        if (!w) continue;
        if (m.error !== undefined) { w.reject(new Error(`cannot start ${m.error}`)); continue; }
        w.resolve({ pid: m.pid!, exited: new Promise<Exit>((res) => this.ends.set(id, res)) });
        continue;
      }
      const end = this.ends.get(id);
      this.ends.delete(id);
      end?.({ code: m.code ?? null, signal: m.signal !== undefined ? signalName(m.signal) : null });
    }
  }

  private died(): void {
    if (this.dead) return;
    this.dead = true;
    for (const w of this.waiting.values()) w.reject(new Error('the process starter died before starting it'));
    this.waiting.clear();
    const running = [...this.ends.keys()];
    this.ends.clear();
    this.onDeath(running);
  }
}

/** A signal's name from its number ('SIGKILL' for 9). */
function signalName(n: number): NodeJS.Signals | null {
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === n) return name as NodeJS.Signals;
  return null;
}

function closeQuietly(fd: number): void {
  try { closeSync(fd); } catch { /* already closed */ }
}
