import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { TresorClient } from '@tresor/client';
import type { CreateScheduleRequest, ScheduleRecord } from '@tresor/contracts';
import { backupLevelSchema } from '@tresor/contracts';
import { UsageError } from '@tresor/errors';
import { optionsOf } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { remoteClient } from '../remote/remote.js';
import { parseDurationMs } from './duration.js';
import { registerScheduleRun } from './schedule-run.js';

interface AddOptions {
  cron?: string;
  every?: string;
  at?: string;
  timezone: string;
  level: string;
  tag: string[];
  plan: string[];
  jitter?: string;
  catchUp: 'skip' | 'run-once';
  paused?: boolean;
}

/** `CRON=LEVEL` (e.g. `* * * * 0=full`) as a plan rule. */
function planRule(text: string): { cron: string; level: 'full' | 'differential' | 'incremental' } {
  const at = text.lastIndexOf('=');
  const level = backupLevelSchema.safeParse(text.slice(at + 1).trim());
  if (at <= 0 || !level.success) throw new UsageError(`--plan '${text}': use CRON=LEVEL, e.g. '* * * * 0=full' (levels: full, differential, incremental)`);
  return { cron: text.slice(0, at).trim(), level: level.data };
}

/** The schedule request `tresor schedule add` sends. */
export function scheduleRequest(path: string, o: AddOptions): CreateScheduleRequest {
  const kinds = [o.cron, o.every, o.at].filter((x) => x !== undefined).length;
  if (kinds !== 1) throw new UsageError('tresor schedule add: give exactly one of --cron EXPR, --every DURATION or --at TIME');
  const level = backupLevelSchema.safeParse(o.level);
  if (!level.success) throw new UsageError(`--level '${o.level}': use full, differential or incremental`);
  const common = {
    plan: o.plan.map(planRule),
    jitterMs: o.jitter ? parseDurationMs(o.jitter, '--jitter') : 0,
    catchUp: o.catchUp,
    paused: o.paused ?? false,
    backup: { source: { kind: 'filesystem' as const, location: resolve(path) }, level: level.data, tags: o.tag },
  };
  if (o.cron !== undefined) return { kind: 'cron', cron: o.cron, timezone: o.timezone, ...common };
  if (o.every !== undefined) return { kind: 'interval', everyMs: parseDurationMs(o.every, '--every'), timezone: o.timezone, ...common };
  const at = new Date(o.at!);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at '${o.at}': use an ISO-8601 time, e.g. 2030-01-01T02:00:00Z`);
  return { kind: 'once', at: at.toISOString(), timezone: o.timezone, ...common };
}

function client(command: Command): { client: TresorClient; options: GlobalOptions } {
  const options = optionsOf<object>(command);
  const c = remoteClient(options);
  if (!c) throw new UsageError(`tresor schedule ${command.name()} manages a cluster's schedules: pass --server URL (or set TRESOR_SERVER)`);
  return { client: c, options };
}

function when(s: ScheduleRecord): string {
  if (s.kind === 'cron') return `cron '${s.cron}' ${s.timezone}`;
  if (s.kind === 'interval') return `every ${(s.everyMs ?? 0) / 1000}s`;
  return 'once';
}

function printSchedules(schedules: readonly ScheduleRecord[], json: boolean | undefined): void {
  if (json) return printJson(schedules);
  if (schedules.length === 0) return void process.stdout.write('no schedules\n');
  const rows = schedules.map((s) => [
    s.id,
    when(s),
    String((s.backup.source as { location?: string } | undefined)?.location ?? ''),
    s.plan.length ? s.plan.map((p) => `${p.cron}=${p.level}`).join('; ') : String(s.backup.level ?? 'incremental'),
    s.paused ? 'paused' : (s.nextRunAt?.replace(/\.\d+Z$/, 'Z') ?? 'ended'),
    String(s.fired),
  ]);
  process.stdout.write(formatTable(['ID', 'WHEN', 'SOURCE', 'LEVEL', 'NEXT', 'FIRED'], rows) + '\n');
}

/** `tresor schedule add|list|pause|resume|run-now|remove` (a cluster's schedules, remote mode) and `run` (the standalone daemon). */
export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description("manage a cluster's backup schedules (with --server), or run the standalone scheduler");
  schedule
    .command('add')
    .description('schedule backups of a source directory (a path on the backup-engine hosts)')
    .argument('<path>', 'source directory')
    .option('--cron <expr>', "cron expression: 5 fields, or 6 with seconds first (e.g. '0 2 * * *')")
    .option('--every <duration>', 'fixed interval (e.g. 6h)')
    .option('--at <time>', 'once, at this ISO-8601 time')
    .option('--timezone <tz>', 'IANA time zone of --cron and --plan', 'UTC')
    .option('--level <level>', 'backup level when no --plan rule applies', 'incremental')
    .option('--plan <cron=level>', "level by due time, first match wins (e.g. '* * * * 0=full'); repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--tag <tag>', 'tag each backup; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--jitter <duration>', 'delay each run by up to this much (deterministic per run)')
    .addOption(new Option('--catch-up <policy>', 'runs missed while no scheduler ran').choices(['skip', 'run-once']).default('skip'))
    .option('--paused', 'create it paused')
    .action(async (path: string, _o: AddOptions, command: Command) => {
      const { client: c, options } = client(command);
      const created = await c.schedules.create(scheduleRequest(path, optionsOf<AddOptions>(command)));
      if (options.json) return printJson(created);
      process.stdout.write(`schedule ${created.id} added; first run ${created.paused ? '(paused)' : (created.nextRunAt ?? '-')}\n`);
    });
  schedule
    .command('list')
    .description('list schedules')
    .action(async (_o: object, command: Command) => {
      const { client: c, options } = client(command);
      printSchedules(await c.schedules.list(), options.json);
    });
  for (const [name, what] of [
    ['pause', 'stop firing a schedule (runs due while paused never fire)'],
    ['resume', 'fire a paused schedule again, from its next due time'],
  ] as const) {
    schedule
      .command(name)
      .description(what)
      .argument('<id>', 'schedule id')
      .action(async (id: string, _o: object, command: Command) => {
        const { client: c, options } = client(command);
        const s = name === 'pause' ? await c.schedules.pause(id) : await c.schedules.resume(id);
        if (options.json) return printJson(s);
        process.stdout.write(`schedule ${s.id} ${s.paused ? 'paused' : `resumed; next run ${s.nextRunAt ?? '-'}`}\n`);
      });
  }
  schedule
    .command('run-now')
    .description("back up a schedule's source now, at the level its plan gives now")
    .argument('<id>', 'schedule id')
    .action(async (id: string, _o: object, command: Command) => {
      const { client: c, options } = client(command);
      const job = await c.schedules.run(id);
      if (options.json) return printJson(job);
      process.stdout.write(`job ${job.id} submitted (${String(job.params.level)})\n`);
    });
  schedule
    .command('remove')
    .description('delete a schedule (its backups stay)')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _o: object, command: Command) => {
      const { client: c, options } = client(command);
      await c.schedules.delete(id);
      if (options.json) return printJson({ removed: id });
      process.stdout.write(`schedule ${id} removed\n`);
    });
  registerScheduleRun(schedule);
}
