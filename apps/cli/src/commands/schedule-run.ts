import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { runBackup } from '@tresor/repository';
import { loadScheduleFile, planFirings, runId } from '@tresor/scheduling';
import type { LoadedSchedule } from '@tresor/scheduling';
import { FilesystemSource } from '@tresor/source';
import { audited } from '../audit-trail.js';
import { loadConfigFile } from '../config-file.js';
import { optionsOf, repoDir, warnDegraded, withRepository } from '../context.js';
import type { GlobalOptions } from '../context.js';
import { parseDurationMs } from './duration.js';

interface RunOptions {
  file?: string;
  state?: string;
  grace: string;
  tick: string;
  once?: boolean;
}

/** Where each schedule stands: the earliest due time not yet handled. */
type State = Record<string, string>;

async function readState(file: string): Promise<State> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as State;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`schedule state ${file}: unreadable (${(err as Error).message}); delete it to start every schedule from now`);
  }
}

async function writeState(file: string, state: State): Promise<void> {
  // Written whole and renamed, so a crash leaves the old state or the new one.
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

function say(options: GlobalOptions, event: Record<string, unknown>, text: string): void {
  process.stdout.write(options.json ? JSON.stringify({ at: new Date().toISOString(), ...event }) + '\n' : `${new Date().toISOString()} ${text}\n`);
}

/** Runs one due run of a schedule in this process (backups run one at a time, so never two of a source at once). */
async function fire(options: GlobalOptions, s: LoadedSchedule, due: Date): Promise<void> {
  const level = s.levels.levelAt(due);
  const id = runId(s.id, due);
  try {
    const result = await audited(options, 'backup.create', resolve(s.source), { requestedLevel: level, tags: s.tags, schedule: s.id, run: id }, () =>
      withRepository(options, (repo) => runBackup(repo, new FilesystemSource(s.source), { level, tags: s.tags }), { onDegraded: warnDegraded }),
    (r) => ({ backupId: r.backupId, level: r.level, files: r.files }));
    say(options, { event: 'backup', schedule: s.id, due: due.toISOString(), backupId: result.backupId, level: result.level, files: result.files }, `schedule ${s.id}: backup ${result.backupId} (${result.level}, ${result.files} files) for the run due ${due.toISOString()}`);
  } catch (err) {
    // One failed run must not stop the daemon; the next due run tries again.
    process.stderr.write(`tresor: schedule ${s.id}: the run due ${due.toISOString()} failed: ${(err as Error).message}\n`);
    if (options.json) say(options, { event: 'failed', schedule: s.id, due: due.toISOString(), error: (err as Error).message }, '');
  }
}

/** --file, else the schedules of the config file (--config, TRESOR_CONFIG), else $TRESOR_SCHEDULES or <repo>/schedules.json. */
async function schedulesToRun(options: RunOptions & GlobalOptions): Promise<{ file: string; schedules: LoadedSchedule[] }> {
  if (options.file === undefined) {
    const given = await loadConfigFile(options);
    if (given?.unified) {
      const { schedulesOf } = await import('@tresor/config');
      return { file: given.file, schedules: schedulesOf(given.unified, given.file) };
    }
    if (given) throw new UsageError(`${given.file}: has no schedules: it is a monitor.json, not the config file (docs/configuration.md); give the schedule file with --file`);
  }
  const file = options.file ?? process.env.TRESOR_SCHEDULES ?? join(repoDir(options), 'schedules.json');
  return { file, schedules: await loadScheduleFile(file) };
}

/** `tresor schedule run`: the standalone scheduler, a foreground daemon firing backups in-process. */
export function registerScheduleRun(schedule: Command): void {
  schedule
    .command('run')
    .description('standalone: run the schedules of a file as a foreground daemon (SIGTERM stops it after the running backup)')
    .option('--file <file>', 'schedule file (default: the schedules of --config or $TRESOR_CONFIG, else $TRESOR_SCHEDULES, else <repo>/schedules.json)')
    .option('--state <file>', 'where each schedule stands (default: <repo>/schedule-state.json)')
    .option('--grace <duration>', 'a run found later than this is missed (catch-up policy)', '60s')
    .option('--tick <duration>', 'how often due runs are looked for', '1s')
    .option('--once', 'fire what is due now, then exit')
    .action(async (_o: RunOptions, command: Command) => {
      const options = optionsOf<RunOptions>(command);
      if (options.server ?? process.env.TRESOR_SERVER) throw new UsageError('tresor schedule run is the standalone scheduler; a cluster runs the scheduler service instead');
      const graceMs = parseDurationMs(options.grace, '--grace');
      const tickMs = Math.max(100, parseDurationMs(options.tick, '--tick'));
      const { file, schedules } = await schedulesToRun(options);
      const stateFile = options.state ?? join(repoDir(options), 'schedule-state.json');
      const state = await readState(stateFile);
      const started = new Date();
      for (const s of schedules) state[s.id] ??= started.toISOString();
      await writeState(stateFile, state);
      say(options, { event: 'started', file, schedules: schedules.map((s) => s.id) }, `scheduling ${schedules.length} schedule(s) from ${file}`);

      let stopping = false;
      let wake: (() => void) | undefined;
      const stop = (): void => {
        stopping = true;
        wake?.();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      while (!stopping) {
        for (const s of schedules) {
          if (stopping) break;
          if (s.paused || state[s.id] === 'ended') continue;
          const plan = planFirings({ scheduleId: s.id, timetable: s.timetable, cursor: new Date(state[s.id]!), now: new Date(), catchUp: s.catchUp, jitterMs: s.jitterMs, graceMs });
          if (plan.missed) say(options, { event: 'missed', schedule: s.id, since: plan.missed.toISOString(), catchUp: s.catchUp }, `schedule ${s.id}: runs missed since ${plan.missed.toISOString()} (${s.catchUp})`);
          for (const due of plan.fire) {
            await fire(options, s, due);
            // Saved after each run: a crash mid-backup repeats that run (if still within the grace), never skips it.
            state[s.id] = new Date(due.getTime() + 1).toISOString();
            await writeState(stateFile, state);
            if (stopping) break;
          }
          if (!stopping) {
            state[s.id] = plan.cursor ? plan.cursor.toISOString() : 'ended';
            await writeState(stateFile, state);
          }
        }
        if (options.once) break;
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, tickMs);
        });
      }
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      say(options, { event: 'stopped' }, 'stopped');
    });
}
