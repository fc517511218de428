/**
 * Deterministic generator of enterprise-like key trees for benchmarks and memory measurements:
 * tenants/<t>/apps/<a>/ folders holding PEM keys and certificates (1-4 KB), JSON secrets
 * (0.2-2 KB) and a few keystores (50-500 KB). Same seed, same tree, byte for byte.
 *
 *   npx tsx bench/generate-key-tree.ts --files 100000 --out /tmp/tree [--seed 1] [--big-file-mib 0]
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** A small seeded PRNG (mulberry32): benchmark data only, never key material. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pseudo-random but base64-looking text of `length` bytes, as PEM bodies are. */
function pemBody(random: () => number, length: number): string {
  const chunks: string[] = [];
  let size = 0;
  while (size < length) {
    const block = createHash('sha512').update(String(random())).digest('base64');
    chunks.push(block);
    size += block.length;
  }
  return chunks.join('').slice(0, length).replace(/(.{64})/g, '$1\n');
}

export async function generateKeyTree(out: string, files: number, seed = 1, bigFileMiB = 0): Promise<void> {
  const random = prng(seed);
  const perApp = 20;
  const appsPerTenant = 25;
  const fixedTime = new Date('2026-01-01T00:00:00Z');
  for (let i = 0; i < files; i++) {
    const app = Math.floor(i / perApp);
    const tenant = Math.floor(app / appsPerTenant);
    const dir = join(out, 'tenants', `tenant-${tenant}`, 'apps', `app-${app % appsPerTenant}`);
    if (i % perApp === 0) await mkdir(dir, { recursive: true });
    const kind = random();
    let name: string;
    let content: string | Buffer;
    if (kind < 0.45) {
      name = `key-${i}.key`;
      content = `-----BEGIN PRIVATE KEY-----\n${pemBody(random, 1000 + Math.floor(random() * 3000))}\n-----END PRIVATE KEY-----\n`;
    } else if (kind < 0.8) {
      name = `cert-${i}.crt`;
      content = `-----BEGIN CERTIFICATE-----\n${pemBody(random, 1000 + Math.floor(random() * 3000))}\n-----END CERTIFICATE-----\n`;
    } else if (kind < 0.995) {
      name = `secret-${i}.json`;
      content = JSON.stringify({ id: i, user: `svc-${i}`, password: pemBody(random, 200 + Math.floor(random() * 1800)) });
    } else {
      name = `keystore-${i}.p12`;
      const size = 50_000 + Math.floor(random() * 450_000);
      content = Buffer.alloc(size);
      for (let o = 0; o < size; o += 64) createHash('sha512').update(`${seed}:${i}:${o}`).digest().copy(content, o);
    }
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    await utimes(path, fixedTime, fixedTime);
  }
  if (bigFileMiB > 0) {
    const path = join(out, 'hsm-export.bin');
    const chunk = Buffer.alloc(1024 * 1024);
    const { open } = await import('node:fs/promises');
    const handle = await open(path, 'w', 0o600);
    for (let m = 0; m < bigFileMiB; m++) {
      for (let o = 0; o < chunk.length; o += 64) createHash('sha512').update(`${seed}:big:${m}:${o}`).digest().copy(chunk, o);
      await handle.write(chunk);
    }
    await handle.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '10000' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'big-file-mib': { type: 'string', default: '0' },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  await generateKeyTree(values.out, Number(values.files), Number(values.seed), Number(values['big-file-mib']));
}
