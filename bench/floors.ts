import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { measure } from './measure.js';
import type { Measurement } from './measure.js';

/** The machine's floor for one goal: the least work any tool must do for it, done by standard tools. */
export interface Floor {
  readonly name: string;
  /** The benchmark scenario this floor bounds from below. */
  readonly scenario: string;
  readonly measurement: Measurement;
}

const sh = (script: string): string[] => ['bash', '-o', 'pipefail', '-c', script];

/**
 * Measures, on the same tree and in the same run as the tools, what each goal needs at the least:
 * the lstat walk (a no-change backup must notice that nothing changed), reading every byte, and
 * reading, compressing (zstd -3) and encrypting (AES-256-CTR, GCM's cipher without its GHASH) every
 * byte (a first backup), and writing every file from an uncompressed tar (a full restore). One
 * process each, pipelines use both cores; a tool doing more (per-file hashing, signing, a catalog)
 * cannot go below these.
 */
export async function measureFloors(tree: string, scratch: string): Promise<Floor[]> {
  const q = JSON.stringify;
  const key = randomBytes(32).toString('hex');
  const iv = randomBytes(16).toString('hex');
  await rm(scratch, { recursive: true, force: true });
  await mkdir(join(scratch, 'extracted'), { recursive: true });
  const tarFile = join(scratch, 'tree.tar');
  try {
    const walk = await measure(sh(`find ${q(tree)} -printf '%s %T@ %m\\n' > /dev/null`), {});
    const read = await measure(sh(`tar -cf - -C ${q(tree)} . | cat > /dev/null`), {});
    const sealed = await measure(
      sh(`tar -cf - -C ${q(tree)} . | zstd -3 -q -c | openssl enc -aes-256-ctr -K ${key} -iv ${iv} > /dev/null`),
      {},
    );
    await measure(sh(`tar -cf ${q(tarFile)} -C ${q(tree)} .`), {});
    const extract = await measure(sh(`tar -xf ${q(tarFile)} -C ${q(join(scratch, 'extracted'))}`), {});
    const parallelExtract = await measureParallelExtract(tree, scratch, availableParallelism());
    return [
      { name: 'lstat walk of the tree (`find -printf`)', scenario: 'no-change backup', measurement: walk },
      { name: 'read every byte (`tar -cf - | cat`)', scenario: 'first backup', measurement: read },
      { name: 'read + zstd -3 + AES-256 of every byte (`tar | zstd | openssl enc`)', scenario: 'first backup', measurement: sealed },
      { name: 'write every file from a tar (`tar -xf`)', scenario: 'full restore', measurement: extract },
      { name: `write every file from ${parallelExtract.parts} tars at once (one \`tar -xf\` per core)`, scenario: 'full restore', measurement: parallelExtract.measurement },
    ];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Writing every file with one extractor per core, each taking its share of the tree's folders:
 * what a restore that creates files on every core at once cannot go below.
 */
async function measureParallelExtract(tree: string, scratch: string, cores: number): Promise<{ parts: number; measurement: Measurement }> {
  const q = JSON.stringify;
  const parts = Math.max(1, cores);
  const dir = join(scratch, 'parallel');
  await mkdir(join(dir, 'extracted'), { recursive: true });
  // The folders two levels down (tenants/<t>), dealt round-robin to the parts.
  const folders = await listFolders(tree, 2);
  const lists = Array.from({ length: parts }, (_, i) => folders.filter((_f, j) => j % parts === i));
  await Promise.all(lists.map((list, i) => writeFile(join(dir, `list-${i}`), list.map((f) => `./${f}\n`).join(''))));
  for (let i = 0; i < parts; i++) await measure(sh(`tar -cf ${q(join(dir, `part-${i}.tar`))} -C ${q(tree)} -T ${q(join(dir, `list-${i}`))}`), {});
  const extractAll = lists.map((_l, i) => `tar -xf ${q(join(dir, `part-${i}.tar`))} -C ${q(join(dir, 'extracted'))} &`).join(' ');
  return { parts, measurement: await measure(sh(`${extractAll} wait`), {}) };
}

/** Relative paths of the directories `depth` levels below `root` (fewer levels where the tree is shallower). */
async function listFolders(root: string, depth: number, prefix = ''): Promise<string[]> {
  const here = (await readdir(join(root, prefix), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => (prefix ? `${prefix}/${e.name}` : e.name));
  if (depth <= 1 || here.length === 0) return here.length > 0 ? here : [prefix || '.'];
  return (await Promise.all(here.map((dir) => listFolders(root, depth - 1, dir)))).flat();
}
