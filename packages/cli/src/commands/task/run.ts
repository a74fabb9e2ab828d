import { Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { BaseCommand } from '../../base-command.js';
import { UserError, oneLine } from '../../errors.js';
import { amountFlag, jsonFlag, masterFlag, parseMasters } from '../../flags.js';
import { runTask } from '../../task-runner.js';
import { TASK_DEFAULTS, buildSpec, parseTaskFile, type TaskFile } from '../../task-spec.js';

export default class TaskRunCommand extends BaseCommand {
  static override summary = 'Run one command on the cluster, stream its output and exit with its exit code.';
  static override description = [
    "Registers a small framework, waits for an offer that fits, launches the command as a task and follows it: state changes go to stderr, the task's stdout to stdout and its stderr to stderr. Exits with the task's exit code (1 for other failures, 130 after Ctrl-C, which kills the task). The framework has failover timeout 0: if this command dies, the master kills the task.",
    "One word after '--' is a shell command line ('echo a | wc -c'); several words are quoted one by one (sh -c 'echo out; exit 3'). With --no-shell they run as argv without a shell.",
    '-f takes the JSON task definition {"id": "t1", "cmd": "echo hi", "resources": {"cpus": 1, "mem": 128}, "role": "*"}; flags override it.',
  ].join('\n\n');
  static override examples = [
    "<%= config.bin %> task run --name hello --cpus 0.1 --mem 32 -- echo hello",
    "<%= config.bin %> task run --name splitter --cpus 1 --mem 64 --file ./split.sh -- ./split.sh input.txt",
    '<%= config.bin %> task run -f task.json --env MODE=fast',
  ];
  static override strict = false;
  static override flags = {
    master: masterFlag,
    name: Flags.string({ summary: 'Task name (default: from -f, else the command).', helpValue: 'NAME' }),
    cpus: amountFlag({ summary: `CPUs (default ${TASK_DEFAULTS.cpus}).`, aliases: ['cores'], helpValue: 'N' }),
    mem: amountFlag({ summary: `Memory in MiB (default ${TASK_DEFAULTS.mem}).`, helpValue: 'MiB' }),
    disk: amountFlag({ summary: 'Disk in MiB.', helpValue: 'MiB' }),
    ports: amountFlag({ summary: 'Number of ports to assign (PORT0…, PORTS in the env).', helpValue: 'N' }),
    role: Flags.string({ summary: `Role to run as (default ${TASK_DEFAULTS.role}).` }),
    file: Flags.string({ summary: 'Ship this local file into the sandbox (≤ 8 MiB; repeatable).', multiple: true, helpValue: 'PATH' }),
    uri: Flags.string({ summary: "Fetch this http(s)/file URL into the sandbox (repeatable).", multiple: true, helpValue: 'URL' }),
    env: Flags.string({ summary: 'Environment variable for the task (repeatable).', multiple: true, helpValue: 'K=V' }),
    'task-file': Flags.string({ char: 'f', summary: 'JSON task definition.', helpValue: 'task.json' }),
    shell: Flags.boolean({ summary: 'Run the command under /bin/sh -c (--no-shell: as argv).', default: true, allowNo: true }),
    'offer-timeout': amountFlag({ summary: 'Give up after this many seconds without a fitting offer (0: wait forever).', default: 0, helpValue: 'SECONDS' }),
    json: jsonFlag,
    'dry-run': Flags.boolean({ summary: 'Print the task that would be launched (JSON) and exit.', hidden: true, default: false }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(TaskRunCommand);
    let masters: string[];
    try {
      masters = parseMasters(flags.master);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    let file: TaskFile | undefined;
    if (flags['task-file']) {
      let text: string;
      try {
        text = readFileSync(flags['task-file'], 'utf8');
      } catch (err) {
        throw new UserError(`cannot read ${flags['task-file']}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : oneLine(err)}`);
      }
      file = parseTaskFile(text, flags['task-file']);
    }
    const spec = buildSpec({
      name: flags.name, cpus: flags.cpus, mem: flags.mem, disk: flags.disk, ports: flags.ports, role: flags.role,
      env: flags.env, file: flags.file, uri: flags.uri, shell: flags.shell,
    }, file, argv as string[]);
    if (flags['dry-run']) {
      this.printJson(spec);
      return;
    }
    // A quick look at the master first, so an unreachable one is one clear line, not a long retry.
    await this.withOperator(masters.join(','), (c) => c.getHealth());
    const code = await runTask({ masters, spec, json: flags.json, offerTimeoutSeconds: flags['offer-timeout'] });
    this.exit(code);
  }
}
