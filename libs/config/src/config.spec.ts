import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '@tresor/errors';
import { ConfigError } from './config-error.js';
import { loadTresorConfig } from './load.js';
import { monitorConfigOf, retentionOf, schedulesOf } from './views.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tresor-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const YAML = `# yaml-language-server: $schema=./tresor.schema.json
version: 1
repository: repo
sources:
  /etc/pki/tls:
    rpoHours: 6
    immutable: true
    tags: [pki]
    retention: { keepDaily: 7, keepWeekly: 4 }
  /srv/legacy: {}
schedules:
  - id: pki-hourly
    source: /etc/pki/tls
    cron: "0 * * * *"
    timezone: Europe/Berlin
    tags: [hourly]
retention:
  default: { retentionDays: 30, maxBackups: 10 }
keys: { warnDays: 14 }
monitoring:
  intervalSeconds: 60
  freshness: { rpoHours: 12 }
  alerts:
    channels:
      ops: { type: webhook, url: "https://alerts.example.com/x", secret: { env: HOOK_SECRET } }
    routes: [{ levels: [CRITICAL], channels: [ops] }]
`;

/** Writes `text` to a file of that name and returns the error loading it gives. */
async function failure(name: string, text: string): Promise<ConfigError> {
  const file = join(dir, name);
  await writeFile(file, text);
  const err = await loadTresorConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).exitCode).toBe(ExitCode.Usage);
  expect((err as ConfigError).message).not.toContain('\n');
  return err as ConfigError;
}

describe('loadTresorConfig', () => {
  it('reads YAML, resolves the repository against the file, and gives each command its view', async () => {
    const file = join(dir, 'tresor.yaml');
    await writeFile(file, YAML);
    const config = await loadTresorConfig(file);
    expect(config.repository).toBe(join(dir, 'repo'));
    const monitor = monitorConfigOf(config, file);
    expect(monitor.sources).toEqual({ '/etc/pki/tls': { rpoHours: 6, immutable: true }, '/srv/legacy': {} });
    expect(monitor.keys.warnDays).toBe(14);
    expect(monitor.freshness.rpoHours).toBe(12);
    expect(monitor.storage.criticalPercent).toBe(90);
    expect(monitor.alerts?.routes).toEqual([{ levels: ['CRITICAL'], channels: ['ops'] }]);
    const [schedule] = schedulesOf(config, file);
    expect(schedule!.tags).toEqual(['pki', 'hourly']);
    expect(schedule!.timetable.atOrAfter(new Date('2026-01-01T00:30:00Z'))).toEqual(new Date('2026-01-01T01:00:00Z'));
    expect(retentionOf(config)).toEqual({
      default: { retentionDays: 30, maxBackups: 10 },
      sources: { '/etc/pki/tls': { keepDaily: 7, keepWeekly: 4 } },
    });
  });

  it('reads the same config as JSON, by extension and by content', async () => {
    const json = JSON.stringify({ version: 1, schedules: [{ id: 'a', source: '/x', everyMs: 60_000 }] });
    for (const name of ['tresor.json', 'tresor.conf']) {
      await writeFile(join(dir, name), json);
      const config = await loadTresorConfig(join(dir, name));
      expect(config.schedules[0]).toMatchObject({ id: 'a', everyMs: 60_000, timezone: 'UTC', level: 'incremental' });
      expect(config.monitoring.intervalSeconds).toBe(300);
    }
  });

  it('names the file, the path of an unknown key and the keys expected there', async () => {
    const err = await failure('unknown.yaml', 'version: 1\nmonitoring:\n  freshnes: { rpoHours: 3 }\n');
    expect(err.message).toBe(
      `${join(dir, 'unknown.yaml')}: monitoring.freshnes: unknown key; expected one of intervalSeconds, storage, freshness, tls, drills, compliance, alerts`,
    );
  });

  it('lists the sections of the file for an unknown top-level key (a monitor.json key at the top, say)', async () => {
    const err = await failure('top.yaml', 'version: 1\nintervalSeconds: 60\n');
    expect(err.message).toBe(`${join(dir, 'top.yaml')}: intervalSeconds: unknown key; expected one of $schema, version, repository, sources, schedules, retention, storage, keys, monitoring`);
  });

  it('names the keys of the alert channel type written when a channel has an unknown key', async () => {
    const err = await failure('channel.yaml', 'version: 1\nmonitoring:\n  alerts:\n    channels:\n      mail: { type: email, hots: smtp, from: a@b.c, to: [x@y.z] }\n');
    expect(err.message).toMatch(/channel\.yaml: monitoring\.alerts\.channels\.mail\.hots: unknown key; expected one of type, host, port, security/);
  });

  it('refuses a bad cron expression at its path, saying what a cron expression is', async () => {
    const err = await failure('cron.yaml', 'version: 1\nschedules:\n  - { id: a, source: /x, cron: "0 3 * *" }\n');
    expect(err.message).toBe(`${join(dir, 'cron.yaml')}: schedules[0].cron: cron expression '0 3 * *' has 4 fields: use 5 (minute hour day month weekday) or 6 (second first)`);
  });

  it('refuses a bad time zone at its path, with an example of a good one', async () => {
    const err = await failure('tz.json', JSON.stringify({ version: 1, schedules: [{ id: 'a', source: '/x', cron: '0 3 * * *', timezone: 'Mars/Olympus' }] }));
    expect(err.message).toBe(`${join(dir, 'tz.json')}: schedules[0].timezone: 'Mars/Olympus' is not a time zone; expected an IANA time zone such as UTC or Europe/Berlin`);
  });

  it('refuses a value of the wrong type, naming the type expected', async () => {
    const err = await failure('type.yaml', 'version: 1\nsources:\n  /etc/keys: { rpoHours: "six" }\n');
    expect(err.message).toBe(`${join(dir, 'type.yaml')}: sources["/etc/keys"].rpoHours: Invalid input: expected number, received string`);
    const version = await failure('version.yaml', 'version: 2\n');
    expect(version.message).toMatch(/version\.yaml: version: Invalid input: expected 1$/);
  });

  it('refuses a retention policy without rules and a source policy given twice', async () => {
    const empty = await failure('policy.yaml', 'version: 1\nretention:\n  default: { timeZone: UTC }\n');
    expect(empty.message).toMatch(/policy\.yaml: retention\.default: has no rule, so nothing would be kept/);
    const twice = await failure('twice.yaml', 'version: 1\nsources:\n  /k: { retention: { keepLast: 1 } }\nretention:\n  sources:\n    /k: { keepLast: 2 }\n');
    expect(twice.message).toMatch(/twice\.yaml: sources\["\/k"\]\.retention: source \/k also has a policy in retention\.sources; expected one of the two/);
  });

  it('refuses broken YAML with its line, a bad storage location and an unreadable file', async () => {
    expect((await failure('broken.yaml', 'version: 1\nsources: [\n')).message).toMatch(/broken\.yaml:\d+:\d+: not valid YAML/);
    expect((await failure('dup.yaml', 'version: 1\nversion: 1\n')).message).toMatch(/dup\.yaml:2:1: not valid YAML \(Map keys must be unique/);
    const storage = await failure('storage.yaml', 'version: 1\nstorage:\n  locations:\n    - { name: Bad Name, type: local, path: /x }\n');
    expect(storage.message).toMatch(/storage\.yaml: storage\.locations\[0\]: storage location Bad Name: name: must be 1-63 of a-z 0-9/);
    await expect(loadTresorConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot be read \(ENOENT\)/);
  });

  it('refuses a seed file with the command that translates it', async () => {
    const seed = join(dir, 'backup_config.json');
    await writeFile(seed, await readFile(new URL('../../../examples/seed/backup_config.json', import.meta.url), 'utf8'));
    await expect(loadTresorConfig(seed)).rejects.toThrow(`${seed}: this is the seed system's backup_config.json layout, not a Tresor config; translate it once with \`tresor config translate --backup-config ${seed}\``);
  });
});
