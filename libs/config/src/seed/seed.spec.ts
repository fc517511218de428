import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../config-error.js';
import { parseTresorConfig } from '../load.js';
import { monitorConfigOf } from '../views.js';
import { translateSeedBackupConfig } from './backup.js';
import { translateSeedMonitorConfig } from './monitor.js';
import { renderConfig, translateSeed } from './translate.js';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../../examples/seed/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

describe('seed translation', () => {
  it('translates the example backup_config.json: storage, sources, schedules, retention; lzma is xz', () => {
    const { config, notes } = translateSeedBackupConfig(example('backup_config.json'));
    expect(config).toEqual({
      version: 1,
      storage: { type: 'local', path: '/var/backups/keys' },
      sources: { '/etc/ssl/private': {}, '/opt/app/keys': {} },
      retention: { default: { retentionDays: 30, maxBackups: 10 } },
      schedules: [
        { id: 'seed-1-etc-ssl-private', source: '/etc/ssl/private', cron: '0 2 * * *' },
        { id: 'seed-2-opt-app-keys', source: '/opt/app/keys', cron: '0 2 * * *' },
      ],
    });
    expect(notes).toEqual([
      expect.stringMatching(/^backup_config\.json: schedule: the seed's crontab ran in the host's local time zone/),
      'backup_config.json: compression: lzma is Tresor\'s xz; the codec is chosen once per repository: `tresor init --compression xz`',
      expect.stringMatching(/^backup_config\.json: encryption\.key_file: Tresor reads no key file/),
    ]);
  });

  it('translates the example monitor_config.json: thresholds, age, interval, channels; secrets stay out', () => {
    const seed = example('monitor_config.json');
    const { config, notes } = translateSeedMonitorConfig(seed);
    const monitor = monitorConfigOf(parseTresorConfig(config, 'translated'), 'translated');
    expect(monitor.storage).toMatchObject({ warningPercent: 80, criticalPercent: 90 });
    expect(monitor.freshness.rpoHours).toBe(26);
    expect(monitor.intervalSeconds).toBe(300);
    expect(monitor.alerts?.channels).toEqual({
      email: expect.objectContaining({ type: 'email', host: 'smtp.example.com', port: 587, security: 'starttls', from: 'backup@example.com', to: ['ops@example.com'], auth: { user: 'backup-alerts', password: { env: 'TRESOR_SMTP_PASSWORD' } } }),
      slack: expect.objectContaining({ type: 'slack', url: { env: 'TRESOR_SLACK_WEBHOOK_URL' } }),
    });
    expect(monitor.alerts?.routes).toEqual([{ levels: ['WARNING', 'CRITICAL'], channels: ['email', 'slack'] }]);
    const text = JSON.stringify({ config, notes });
    expect(text).not.toContain('change-me');
    expect(text).not.toContain('hooks.slack.com');
    expect(notes).toContain('monitor_config.json: alerts.webhook: disabled in the seed file, so not translated');
    expect(notes.some((n) => n.startsWith('monitor_config.json: backup_dir: '))).toBe(true);
  });

  it('joins both files into one valid config; the watched directory being the storage needs no note', () => {
    const { config, notes } = translateSeed({
      backup: { json: example('backup_config.json'), file: 'backup_config.json' },
      monitor: { json: example('monitor_config.json'), file: 'monitor_config.json' },
    });
    expect(notes.some((n) => n.includes('backup_dir'))).toBe(false);
    const yaml = renderConfig(config, 'yaml', ['translated by a test']);
    expect(yaml.split('\n').slice(0, 3)).toEqual(['# yaml-language-server: $schema=./tresor.schema.json', '# translated by a test', 'version: 1']);
    const back = parseTresorConfig(parse(yaml), 'translated.yaml');
    expect(back.schedules.map((s) => s.id)).toEqual(['seed-1-etc-ssl-private', 'seed-2-opt-app-keys']);
    expect(back.monitoring.freshness.rpoHours).toBe(26);
    expect(JSON.parse(renderConfig(config, 'json'))).toEqual(config);
  });

  it('maps SMTPS and plain SMTP, accepts `sources` for backup_dirs and a single `to`', () => {
    const mail = (extra: object) =>
      translateSeedMonitorConfig({ alerts: { email: { smtp_host: 'm', from: 'a@b.c', to: 'x@y.z', ...extra } } }).config.monitoring?.alerts?.channels?.email;
    expect(mail({ smtp_port: 465 })).toMatchObject({ port: 465, security: 'tls', to: ['x@y.z'] });
    expect(mail({ use_tls: false })).toMatchObject({ port: 587, security: 'none' });
    expect(translateSeedBackupConfig({ sources: ['/k'], destination: '/d', compression: 'gzip', encryption: { enabled: false } }).notes).toEqual([
      'backup_config.json: compression: gzip; the codec is chosen once per repository: `tresor init --compression gzip`',
      'backup_config.json: encryption.enabled: false has no equivalent: Tresor always encrypts',
    ]);
  });

  it('refuses unknown seed keys and bad values, naming the file, the path and the expected form', () => {
    const fail = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(fail(() => translateSeedBackupConfig({ ...example('backup_config.json'), notify: true }, 'b.json'))).toBe(
      'b.json: notify: unknown key; expected one of backup_dirs, sources, destination, retention_days, max_backups, compression, encryption, schedule',
    );
    expect(fail(() => translateSeedBackupConfig({ ...example('backup_config.json'), compression: 'zip' }, 'b.json'))).toBe(
      'b.json: compression: Invalid option: expected one of "gzip"|"bzip2"|"lzma"|"none"',
    );
    expect(fail(() => translateSeedBackupConfig({ ...example('backup_config.json'), schedule: 'daily' }, 'b.json'))).toMatch(/^b\.json: schedule: cron expression 'daily' has 1 fields: use 5/);
    expect(fail(() => translateSeedBackupConfig({ destination: '/d' }, 'b.json'))).toBe('b.json: backup_dirs: expected exactly one of backup_dirs or sources (a list of directories)');
    expect(fail(() => translateSeedMonitorConfig({ alerts: { slack: { webhook: 'x' } } }, 'm.json'))).toBe('m.json: alerts.slack.webhook: unknown key; expected one of enabled, webhook_url');
    expect(fail(() => translateSeedMonitorConfig({ warning_threshold: '80' }, 'm.json'))).toBe('m.json: warning_threshold: Invalid input: expected number, received string');
    expect(fail(() => translateSeed({}))).toMatch(/nothing to translate/);
  });
});
