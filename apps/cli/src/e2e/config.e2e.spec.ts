import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startHttpSink, type HttpSink } from '../../../../test/support/sinks.js';
import { makeKeyTree, removeDir, tempDir, tresor } from './support.js';

const SEED = resolve(fileURLToPath(import.meta.url), '../../../../../examples/seed');
const HMAC = 'config-e2e-hmac-secret';

/** One YAML file drives schedule run, monitor check and forget of a real standalone repository (docs/configuration.md). */
describe('tresor --config (the unified config file)', () => {
  let dir: string;
  let src: string;
  let file: string;
  let sink: HttpSink;
  const env = { TRESOR_TEST_HMAC: HMAC };

  beforeAll(async () => {
    sink = await startHttpSink();
    dir = await tempDir();
    src = join(dir, 'keys');
    await makeKeyTree(src);
    const init = await tresor(['--repo', join(dir, 'repo'), 'init']);
    expect(init.code, init.stderr).toBe(0);
    file = join(dir, 'tresor.yaml');
    await writeFile(
      file,
      `# yaml-language-server: $schema=${resolve(SEED, '../../docs/tresor.schema.json')}
version: 1
repository: repo            # relative to this file
sources:
  ${JSON.stringify(src)}:
    rpoHours: 1000
    tags: [from-config]
    retention: { keepLast: 1 }
schedules:
  - id: keys
    source: ${JSON.stringify(src)}
    everyMs: 1000
    catchUp: run-once
    tags: [scheduled]
monitoring:
  storage: { warningPercent: 0, criticalPercent: 100 }
  alerts:
    groupWindowMs: 0
    channels:
      hook: { type: webhook, url: "${sink.url}/alerts", secret: { env: TRESOR_TEST_HMAC }, attempts: 1 }
    routes: [{ levels: [WARNING, CRITICAL], channels: [hook] }]
`,
    );
  }, 60_000);
  afterAll(async () => {
    await sink.close();
    await removeDir(dir);
  });

  it('validates the file and summarizes it; a bad value is one line naming file, path and expected form (exit 2)', async () => {
    const ok = await tresor(['config', 'validate', file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`${file}: valid; 1 source(s), 1 schedule(s), retention: 1 per source, storage: not set, alert channels: hook, checks every 300 s\n`);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'version: 1\nschedules:\n  - { id: x, source: /x, cron: "0 3 * * *", timezone: Mars/Olympus }\n');
    const r = await tresor(['--config', bad, 'config', 'validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tresor: ${bad}: schedules[0].timezone: 'Mars/Olympus' is not a time zone; expected an IANA time zone such as UTC or Europe/Berlin\n`);
  }, 60_000);

  it('schedule run --once takes the repository, the schedules and the source tags from the file', async () => {
    // The state says the schedule last stood ten seconds ago: its missed runs collapse into one (run-once).
    await writeFile(join(dir, 'repo', 'schedule-state.json'), JSON.stringify({ keys: new Date(Date.now() - 10_000).toISOString() }));
    const run = await tresor(['--json', '--config', file, 'schedule', 'run', '--once', '--grace', '1s']);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; file?: string; backupId?: string });
    expect(events[0]).toMatchObject({ event: 'started', file });
    const backups = events.filter((e) => e.event === 'backup');
    expect(backups).toHaveLength(1);
    const listed = JSON.parse((await tresor(['--repo', join(dir, 'repo'), '--json', 'list'])).stdout) as { id: string; tags: string[] }[];
    expect(listed).toEqual([expect.objectContaining({ id: backups[0]!.backupId, tags: ['from-config', 'scheduled'] })]);
  }, 120_000);

  it('monitor check (TRESOR_CONFIG) applies the monitoring, sources and alerts sections', async () => {
    const before = sink.requests.length;
    const r = await tresor(['monitor', 'check', '--json'], { ...env, TRESOR_CONFIG: file });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { status: string; checks: { check: string; target: string; status: string; details: Record<string, unknown> }[] };
    expect(out.checks.find((c) => c.check === 'freshness' && c.target === src)).toMatchObject({ status: 'ok', details: { rpoSeconds: 3_600_000 } });
    expect(out.checks.find((c) => c.check === 'storage')?.status).toBe('warning');
    const alerts = sink.requests.slice(before).flatMap((q) => (q.json as { alerts: { rule: string; level: string }[] }).alerts);
    expect(alerts).toContainEqual(expect.objectContaining({ rule: 'check-storage', level: 'WARNING' }));
  }, 120_000);

  it('forget takes the per-source retention policy of the file when no rule flag is given', async () => {
    // A full backup reads nothing of the first, so keep-last 1 leaves the first to forget.
    const second = await tresor(['--repo', join(dir, 'repo'), 'backup', '--level', 'full', src]);
    expect(second.code, second.stderr).toBe(0);
    const r = await tresor(['--config', file, 'forget', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { backups: { action: string; reasons: string[] }[] };
    expect(out.backups.map((b) => b.action).sort()).toEqual(['forget', 'keep']);
    expect(out.backups.find((b) => b.action === 'keep')!.reasons).toContain('keep-last 1');
  }, 120_000);

  it('init takes the repository and the storage locations from the file', async () => {
    const other = join(dir, 'other.yaml');
    await writeFile(other, 'version: 1\nrepository: repo2\nstorage:\n  locations:\n    - { name: primary, type: local, path: objects-primary }\n');
    const r = await tresor(['--config', other, 'init']);
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(await readFile(join(dir, 'repo2', 'tresor.json'), 'utf8')) as { storage: unknown };
    expect(created.storage).toEqual({ locations: [{ name: 'primary', type: 'local', path: 'objects-primary' }], writePolicy: 'all' });
  }, 120_000);

  it('translates the seed files into a config that validates, with the notes on stderr', async () => {
    const out = join(dir, 'translated.yaml');
    const r = await tresor(['config', 'translate', '--backup-config', join(SEED, 'backup_config.json'), '--monitor-config', join(SEED, 'monitor_config.json'), '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: .*backup_config\.json: compression: lzma is Tresor's xz/m);
    expect(r.stderr).not.toContain('change-me');
    const text = await readFile(out, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./tresor.schema.json');
    expect(parse(text)).toMatchObject({ version: 1, storage: { type: 'local', path: '/var/backups/keys' }, monitoring: { freshness: { rpoHours: 26 } } });
    const valid = await tresor(['config', 'validate', out]);
    expect(valid.code, valid.stderr).toBe(0);
    const schema = JSON.parse((await tresor(['config', 'schema'])).stdout) as { $id: string; $schema: string };
    expect(schema).toMatchObject({ $id: 'urn:tresor:config:1', $schema: 'https://json-schema.org/draft/2020-12/schema' });
    expect((await tresor(['config', 'translate'])).code).toBe(2);
  }, 120_000);
});
