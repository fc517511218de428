import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from './cluster.js';
import { TestCluster } from './cluster.js';

/** One sample of a scrape: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

async function scrape(s: RunningService): Promise<{ type: string | null; samples: Sample[] }> {
  const r = await fetch(`${s.http}/metrics`);
  expect(r.status).toBe(200);
  return { type: r.headers.get('content-type'), samples: parse(await r.text()) };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** /metrics of real service processes after a real backup and restore: the series docs/monitoring.md lists. */
describe('/metrics on every service (docs/monitoring.md)', () => {
  let cluster: TestCluster;
  let server: string;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    server = (await cluster.startAll()).http;
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('counts the backup and restore in the engines and reports success rate, RPO and RTO per source in monitoring', async () => {
    const src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    // Repetitive content: compresses, so the ratio is well above 1.
    for (let i = 0; i < 10; i++) await writeFile(join(src, `k${i}.pem`), `key-${i}-`.repeat(2000), { mode: 0o600 });
    const backup = await cluster.cli(['--server', server, 'backup', src, '--json']);
    expect(backup.stderr).toBe('');
    const restore = await cluster.cli(['--server', server, 'restore', 'latest', '--target', join(cluster.dir, 'restored')]);
    expect(restore.stderr).toBe('');

    const service = (name: string) => cluster.services.find((s) => s.name === name)!;
    // Outcome events reach the metrics asynchronously: poll the scrape until they are in.
    const until = async (name: string, ok: (samples: Sample[]) => boolean): Promise<Sample[]> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { samples } = await scrape(service(name));
        if (ok(samples) || Date.now() > deadline) return samples;
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    const engine = await until('backup-engine', (s) => find(s, 'tresor_jobs_total', { kind: 'backup', outcome: 'completed' })?.value === 1);
    expect(find(engine, 'tresor_jobs_total', { kind: 'backup', outcome: 'completed', service: 'backup-engine' })?.value).toBe(1);
    expect(find(engine, 'tresor_job_duration_seconds_count', { kind: 'backup', outcome: 'completed' })?.value).toBe(1);
    expect(find(engine, 'tresor_job_duration_seconds_sum', { kind: 'backup', outcome: 'completed' })!.value).toBeGreaterThan(0);
    expect(find(engine, 'tresor_bytes_total', { kind: 'backup', stage: 'read' })?.value).toBe(10 * 2000 * 'key-0-'.length);
    expect(find(engine, 'tresor_bytes_total', { kind: 'backup', stage: 'stored' })!.value).toBeGreaterThan(0);
    expect(find(engine, 'tresor_backup_compression_ratio')!.value).toBeGreaterThan(2);
    expect(find(engine, 'tresor_queue_pending_messages')).toBeDefined();
    expect(find(engine, 'tresor_process_resident_memory_bytes')!.value).toBeGreaterThan(0);

    const recovery = await until('recovery', (s) => find(s, 'tresor_jobs_total', { kind: 'restore', outcome: 'completed' })?.value === 1);
    expect(find(recovery, 'tresor_jobs_total', { kind: 'restore', outcome: 'completed' })?.value).toBe(1);
    expect(find(recovery, 'tresor_bytes_total', { kind: 'restore', stage: 'restored' })?.value).toBe(10 * 2000 * 'key-0-'.length);

    const monitoring = await until('monitoring', (s) => find(s, 'tresor_sli_rto_seconds', { source: src }) !== undefined);
    expect(find(monitoring, 'tresor_sli_backups_total', { source: src, outcome: 'completed' })?.value).toBe(1);
    expect(find(monitoring, 'tresor_sli_backup_success_ratio', { source: src })?.value).toBe(1);
    const rpo = find(monitoring, 'tresor_sli_rpo_seconds', { source: src })!.value;
    expect(rpo).toBeGreaterThanOrEqual(0);
    expect(rpo).toBeLessThan(3600);
    expect(find(monitoring, 'tresor_sli_last_success_timestamp_seconds', { source: src })!.value * 1000).toBeLessThanOrEqual(Date.now());
    expect(find(monitoring, 'tresor_sli_rto_seconds', { source: src, kind: 'restore' })!.value).toBeGreaterThan(0);

    // Every service serves the scrape without credentials, the gateway (deny by default) included.
    for (const s of cluster.services) {
      const { type, samples } = await scrape(s);
      expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(find(samples, 'tresor_process_cpu_seconds_total', { service: s.name })).toBeDefined();
    }
  }, 240_000);
});
