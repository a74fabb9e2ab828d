/**
 * What `agora task run` launches, from its flags, its `-f task.json` and the command after `--`.
 * Pure except for reading the `--file`s; every rejection is a UserError naming the input.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CommandInfo } from '@agora/core';
import { UserError } from './errors.js';

/** Largest file `--file` ships inline (as a data: URL inside the launch message). */
export const MAX_INLINE_FILE_BYTES = 8 << 20;

/** Defaults of `agora task run` when neither flags nor the task file say. */
export const TASK_DEFAULTS = { cpus: 1, mem: 1024, role: '*' } as const;

/** The seed's task definition (mesos-cli `-f task.json`), with a few friendly extras. */
export interface TaskFile {
  id?: string; name?: string; cmd?: string; shell?: boolean; role?: string;
  resources?: { cpu?: number; cpus?: number; mem?: number; disk?: number; ports?: number };
  env?: Record<string, string>;
}

/** Everything needed to launch one command task. */
export interface TaskSpec {
  taskId: string; name: string; role: string;
  command: { value: string; arguments?: string[]; shell: boolean };
  cpus: number; mem: number; disk?: number; ports?: number;
  env: Record<string, string>;
  uris: NonNullable<CommandInfo['uris']>;
}

/** The flags of `agora task run` that feed the spec (undefined: not given). */
export interface TaskFlags {
  name?: string; cpus?: number; mem?: number; disk?: number; ports?: number; role?: string;
  env?: string[]; file?: string[]; uri?: string[]; shell: boolean;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Parses and checks the JSON of `-f task.json`; `where` names the file in messages. */
export function parseTaskFile(text: string, where: string): TaskFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${where} must hold a JSON object like {"id": "t1", "cmd": "echo hi", "resources": {"cpus": 1, "mem": 128}}`);
  const o = raw as Record<string, unknown>;
  const out: TaskFile = {};
  for (const k of ['id', 'name', 'cmd', 'role'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string' || (o[k] as string).trim() === '') throw new UserError(`${where}: "${k}" must be a non-empty string`);
    out[k] = o[k] as string;
  }
  if (o.shell !== undefined) {
    if (typeof o.shell !== 'boolean') throw new UserError(`${where}: "shell" must be true or false`);
    out.shell = o.shell;
  }
  if (o.resources !== undefined) {
    if (!o.resources || typeof o.resources !== 'object' || Array.isArray(o.resources)) throw new UserError(`${where}: "resources" must be an object like {"cpus": 1, "mem": 128}`);
    const r = o.resources as Record<string, unknown>;
    out.resources = {};
    for (const [k, v] of Object.entries(r)) {
      if (!['cpu', 'cpus', 'mem', 'disk', 'ports'].includes(k)) throw new UserError(`${where}: unknown resource "${k}" (known: cpus, cpu, mem, disk, ports)`);
      if (!isNum(v)) throw new UserError(`${where}: resources.${k} must be a non-negative number, not ${JSON.stringify(v)}`);
      (out.resources as Record<string, number>)[k] = v;
    }
  }
  if (o.env !== undefined) {
    if (!o.env || typeof o.env !== 'object' || Array.isArray(o.env)) throw new UserError(`${where}: "env" must be an object of strings`);
    out.env = {};
    for (const [k, v] of Object.entries(o.env as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new UserError(`${where}: env.${k} must be a string`);
      out.env[k] = String(v);
    }
  }
  return out;
}

/** `K=V` items → a record. */
export function parseEnv(items: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    const k = i < 0 ? item : item.slice(0, i);
    if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UserError(`bad --env '${item}': expected NAME=VALUE`);
    env[k] = item.slice(i + 1);
  }
  return env;
}

/** Quotes one argument for /bin/sh when it needs it. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command from the words after `--`: one word is taken as a shell command line as is
 * (`-- 'echo a | wc -c'`); several are quoted so that each stays one argument
 * (`-- sh -c 'echo out; exit 3'`).
 */
export function shellCommand(argv: readonly string[]): string {
  return argv.length === 1 ? (argv[0] as string) : argv.map(shellQuote).join(' ');
}

/** A local file as a data: URL URI (the agent writes it into the sandbox). */
export function fileUri(path: string): NonNullable<CommandInfo['uris']>[number] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new UserError(`cannot ship --file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!st.isFile()) throw new UserError(`cannot ship --file ${path}: not a regular file`);
  if (st.size > MAX_INLINE_FILE_BYTES) {
    throw new UserError(`cannot ship --file ${path}: it has ${(st.size / (1 << 20)).toFixed(1)} MiB, over the 8 MiB limit of --file (serve it over http(s) and use --uri instead)`);
  }
  const data = readFileSync(path);
  return { value: `data:application/octet-stream;base64,${data.toString('base64')}`, outputFile: basename(path), executable: (st.mode & 0o111) !== 0 };
}

/** Checks a `--uri` value. */
export function checkUri(uri: string): string {
  if (/^(https?|file):\/\/\S+$/.test(uri) || uri.startsWith('/') || uri.startsWith('data:')) return uri;
  throw new UserError(`bad --uri '${uri}': expected an http(s):// or file:// URL, or an absolute path on the agent's host`);
}

/** A readable unique task ID: `NAME.3f2a9c1e`. */
export function newTaskId(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60) || 'task'}.${randomUUID().slice(0, 8)}`;
}

/** Merges flags over the task file over defaults; flags win. */
export function buildSpec(flags: TaskFlags, file: TaskFile | undefined, argv: readonly string[]): TaskSpec {
  const words = argv.filter((a, i) => !(i === 0 && a === '--'));
  let command: TaskSpec['command'];
  if (words.length > 0) {
    command = flags.shell ? { value: shellCommand(words), shell: true } : { value: words[0] as string, arguments: [...words], shell: false };
  } else if (file?.cmd) {
    const shell = flags.shell && file.shell !== false;
    command = shell ? { value: file.cmd, shell: true } : { value: file.cmd.split(/\s+/)[0] as string, arguments: file.cmd.split(/\s+/).filter(Boolean), shell: false };
  } else {
    throw new UserError("no command to run: put it after '--', e.g. agora task run --name hello -- echo hello");
  }
  const name = flags.name ?? file?.name ?? file?.id ?? basename((words[0] ?? file?.cmd ?? 'task').split(/\s+/)[0] as string);
  if (!/^[\w.-]+$/.test(name)) throw new UserError(`bad --name '${name}': use letters, digits, '_', '.', '-'`);
  const cpus = flags.cpus ?? file?.resources?.cpus ?? file?.resources?.cpu ?? TASK_DEFAULTS.cpus;
  const mem = flags.mem ?? file?.resources?.mem ?? TASK_DEFAULTS.mem;
  const disk = flags.disk ?? file?.resources?.disk;
  const ports = flags.ports ?? file?.resources?.ports;
  if (cpus <= 0 && mem <= 0) throw new UserError('a task needs some cpus or mem (--cpus, --mem)');
  if (ports !== undefined && !Number.isInteger(ports)) throw new UserError(`bad --ports ${ports}: a whole number of ports`);
  const spec: TaskSpec = {
    taskId: file?.id ?? newTaskId(name),
    name,
    role: flags.role ?? file?.role ?? TASK_DEFAULTS.role,
    command,
    cpus,
    mem,
    env: { ...(file?.env ?? {}), ...parseEnv(flags.env ?? []) },
    uris: [...(flags.file ?? []).map(fileUri), ...(flags.uri ?? []).map((u) => ({ value: checkUri(u) }))],
  };
  if (disk !== undefined) spec.disk = disk;
  if (ports !== undefined) spec.ports = ports;
  return spec;
}
