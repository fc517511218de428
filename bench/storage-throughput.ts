/**
 * Throughput of a first (full) backup of the same tree to local disk and to an S3 store (the
 * MinIO of test/infra), through the real `tresor` command, and writes Markdown to bench/results/.
 *
 *   npx tsx bench/storage-throughput.ts [--files 5000] [--big-file-mib 1000] [--work /tmp/tresor-storage-bench] [--reps 1]
 *
 * Needs `test/infra/up minio`. Each run uses a fresh repository (and a fresh bucket).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { s3Bucket } from '../test/support/infra.js';
import { generateKeyTree } from './generate-key-tree.js';
import { measure, median } from './measure.js';
import type { Measurement } from './measure.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '5000' },
    'big-file-mib': { type: 'string', default: '1000' },
    work: { type: 'string', default: '/tmp/tresor-storage-bench' },
    reps: { type: 'string', default: '1' },
  },
});
const root = resolve(fileURLToPath(import.meta.url), '../..');
const bin = join(root, 'bin/tresor.mjs');
const work = resolve(values.work!);
const tree = join(work, 'tree');
const env = { TRESOR_PASSPHRASE: 'storage benchmark passphrase' };

async function backupTo(
  name: string,
  storage: unknown[] | undefined,
  extraEnv: Record<string, string>,
): Promise<Measurement> {
  const repo = join(work, `repo-${name}`);
  await rm(repo, { recursive: true, force: true });
  const storageArgs = storage ? ['--storage', JSON.stringify(storage)] : [];
  execFileSync(process.execPath, [bin, '--repo', repo, 'init', '--kdf', 'scrypt', ...storageArgs], {
    env: { ...process.env, ...env, ...extraEnv },
  });
  const result = await measure([process.execPath, bin, '--repo', repo, 'backup', tree], {
    ...env,
    ...extraEnv,
  });
  await rm(repo, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  await rm(tree, { recursive: true, force: true });
  await generateKeyTree(tree, Number(values.files), 1, Number(values['big-file-mib']));
  const treeBytes = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0]);
  const runs: Record<'local disk' | 'MinIO (S3)', Measurement[]> = { 'local disk': [], 'MinIO (S3)': [] };
  for (let rep = 0; rep < Number(values.reps); rep++) {
    runs['local disk'].push(await backupTo('local', undefined, {}));
    const s3 = await s3Bucket();
    try {
      const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
      const s3Env = {
        BENCH_S3_KEY_ID: credentials.accessKeyId,
        BENCH_S3_SECRET: credentials.secretAccessKey,
      };
      const location = {
        name: 'minio',
        type: 's3',
        bucket: s3.bucket,
        endpoint: s3.config.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: { env: 'BENCH_S3_KEY_ID' }, secretAccessKey: { env: 'BENCH_S3_SECRET' } },
      };
      runs['MinIO (S3)'].push(await backupTo('s3', [location], s3Env));
    } finally {
      await s3.cleanup();
    }
  }
  const MiB = 1024 * 1024;
  const lines = [
    `# First backup to local disk vs MinIO (${new Date().toISOString()})`,
    '',
    `Tree: ${values.files} files + one ${values['big-file-mib']} MiB file, ${(treeBytes / MiB).toFixed(0)} MiB in all; ${values.reps} run(s), median; zstd level 3; host: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, MinIO on loopback (single drive, same disk).`,
    '',
    '| target | wall s | MiB/s | CPU s | max RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...Object.entries(runs).map(([target, ms]) => {
      const wall = median(ms.map((m) => m.wallSeconds));
      return `| ${target} | ${wall.toFixed(1)} | ${(treeBytes / MiB / wall).toFixed(0)} | ${median(ms.map((m) => m.cpuSeconds)).toFixed(1)} | ${median(ms.map((m) => m.maxRssMiB)).toFixed(0)} |`;
    }),
    '',
  ];
  const file = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}-storage.md`);
  await writeFile(file, lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\nwritten to ${file}\n`);
}

await main();
