import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { appendFile, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '@tresor/archive';
import { Repository, runBackup, runRestore } from '@tresor/repository';
import type { BackupResult } from '@tresor/repository';
import { FilesystemSource } from '@tresor/source';
import type { PreparedRead, ReadStep, Source, SourceEntry, SourceProblem } from '@tresor/source';
import { initRepo, makeKeyTree, PASSPHRASE, removeDir, tempDir } from '../../apps/cli/src/e2e/support.js';

/**
 * A live key store changes while it is backed up. The backup is deterministic here: a source
 * wrapper changes a file in the window between the scan (which saw it) and the read (which
 * stores it), the window a real writer hits by chance. Each change is either recorded as a
 * warning or provably harmless, and never loses what was there.
 */
describe('files that change while being backed up', () => {
  let dir: string;
  let root: string;
  let repo: Repository;
  let result: BackupResult;
  let entries: Map<string, Entry>;
  const mutations = new Map<string, () => Promise<void>>();

  /** The filesystem source, with a mutation run just before a file's content is read. */
  class MutatingSource implements Source {
    readonly kind: string;
    readonly location: string;
    constructor(private readonly inner: FilesystemSource) {
      this.kind = inner.kind;
      this.location = inner.location;
    }
    scan(): AsyncIterable<SourceEntry | SourceProblem> {
      return this.inner.scan();
    }
    private async mutate(path: string): Promise<void> {
      const mutation = mutations.get(path);
      mutations.delete(path);
      await mutation?.();
    }
    open(path: string): Readable {
      const mutation = mutations.get(path);
      if (!mutation) return this.inner.open(path);
      throw new Error(`test setup: ${path} must be read with readWhole or be listed in streamed`);
    }
    async readWhole(path: string, sizeHint: number): Promise<Buffer> {
      await this.mutate(path);
      return this.inner.readWhole(path, sizeHint);
    }
    async readPrepared(path: string, sizeHint: number, step: ReadStep): Promise<PreparedRead> {
      await this.mutate(path);
      return this.inner.readPrepared(path, sizeHint, step);
    }
  }

  /** `source` with its own `open` (which calls the real one): a stream that changes the file as it is read. */
  const withOpen = (source: FilesystemSource, open: (path: string) => Readable): Source => ({
    kind: source.kind,
    location: source.location,
    scan: () => source.scan(),
    readWhole: (path, size) => source.readWhole(path, size),
    open,
  });

  beforeAll(async () => {
    dir = await tempDir('tresor-live-');
    root = join(dir, 'keys');
    await makeKeyTree(root);
    await writeFile(join(root, 'grows.key'), 'short key\n');
    await writeFile(join(root, 'gone.key'), 'deleted before it is read\n');
    await writeFile(join(root, 'rewritten.key'), 'version 1 of this key\n');
    const repoDir = await initRepo(dir, ['--kdf', 'scrypt']);
    repo = await Repository.open(repoDir, { passphrase: async () => PASSPHRASE, identityPem: async () => '' });

    mutations.set('grows.key', () => appendFile(join(root, 'grows.key'), 'appended while the backup ran\n'));
    mutations.set('gone.key', () => rm(join(root, 'gone.key')));
    mutations.set('rewritten.key', async () => {
      await writeFile(join(root, 'rewritten.key'), 'version 2 of this key\n');
      const later = new Date(Date.now() + 5000);
      await utimes(join(root, 'rewritten.key'), later, later);
    });
    result = await runBackup(repo, new MutatingSource(new FilesystemSource(root)), { level: 'full' });
    entries = new Map<string, Entry>();
    for await (const entry of repo.catalog.entries(result.backupId)) entries.set(entry.path, entry);
  });
  afterAll(async () => {
    await repo?.close();
    await removeDir(dir);
  });

  it('every mutation ran in the window between scan and read', () => {
    expect([...mutations.keys()]).toEqual([]);
  });

  it('a file that grew is stored as read, with a warning naming it', async () => {
    expect(result.warnings).toContainEqual(expect.stringMatching(/^grows\.key: changed size while being read \(10 -> 40 bytes\)$/));
    expect(entries.get('grows.key')?.size).toBe(40);
  });

  it('a file deleted after the scan is left out with a warning, and the backup goes on', async () => {
    expect(result.warnings).toContain('gone.key: skipped (deleted while the backup ran)');
    expect(entries.has('gone.key')).toBe(false);
    expect(entries.has('tenants/acme/payments/tls.key')).toBe(true);
  });

  it('a file rewritten at the same size after the scan is stored whole (never torn), with a warning naming it', () => {
    expect(result.warnings).toContain('rewritten.key: changed while being read (modified after the scan, same size); stored as read');
    // Only the rewritten file: the others kept their times.
    expect(result.warnings.filter((w) => w.includes('same size'))).toHaveLength(1);
  });

  it('a rewritten file is stored whole (never torn) and the next backup has its latest content', async () => {
    const stored = entries.get('rewritten.key')!;
    const v2 = createHash('sha256').update('version 2 of this key\n').digest('hex');
    expect(stored.sha256).toBe(v2);
    const next = await runBackup(repo, new FilesystemSource(root), { level: 'incremental' });
    expect(next.warnings).toEqual([]);
    const target = join(dir, 'restored');
    await runRestore(repo, (await repo.catalog.listBackups()).find((b) => b.id === next.backupId)!, { target });
    for (const path of ['rewritten.key', 'grows.key', 'tenants/acme/payments/tls.key']) {
      expect((await readFile(join(target, path))).equals(await readFile(join(root, path))), path).toBe(true);
    }
  });

  it('a large (streamed) file that grows mid-read is stored as read, with a warning', async () => {
    const big = join(root, 'big-keystore.bin');
    await writeFile(big, randomBytes(3 * 1024 * 1024));
    const source = new FilesystemSource(root);
    const growing = withOpen(source, (path) => {
      const stream = source.open(path);
      if (path !== 'big-keystore.bin') return stream;
      // Appends to the file once its first chunk has been read, while the rest is still being read.
      let first = true;
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          if (!first) return done(null, chunk);
          first = false;
          appendFile(big, randomBytes(4096)).then(() => done(null, chunk), done);
        },
      });
      stream.on('error', (err) => tap.destroy(err));
      return stream.pipe(tap);
    });
    const grown = await runBackup(repo, growing, { level: 'incremental' });
    const warning = grown.warnings.find((w) => w.startsWith('big-keystore.bin'));
    // The append races the read: either the read saw it (a warning) or it did not (the scan's size).
    const entry = await (async () => {
      for await (const e of repo.catalog.entries(grown.backupId)) if (e.path === 'big-keystore.bin') return e;
      return undefined;
    })();
    if (warning) expect(warning).toMatch(/changed size while being read \(3145728 -> 3149824 bytes\)/);
    else expect(entry?.size).toBe(3 * 1024 * 1024);
    expect(entry).toBeDefined();
  });
  it('a large (streamed) file rewritten in place at the same size mid-read is stored as read, with a warning', async () => {
    const name = 'big-rewritten.bin';
    const size = 3 * 1024 * 1024 + 12_345;
    const path = join(root, name);
    await writeFile(path, randomBytes(size));
    const source = new FilesystemSource(root);
    let rewrites = 0;
    const rewriting = withOpen(source, (p) => {
      const stream = source.open(p);
      if (p !== name || rewrites > 0) return stream;
      // The stream itself goes to the backup (the source records its times on it); the whole
      // file is overwritten in place, same size, when its first chunk has been read and the
      // rest has not: what a key store rewriting a file under a running backup does.
      const push = stream.push.bind(stream);
      stream.push = (chunk: unknown, encoding?: BufferEncoding) => {
        if (chunk !== null && rewrites === 0) {
          rewrites++;
          const fd = openSync(path, 'r+');
          writeSync(fd, randomBytes(size), 0, size, 0);
          closeSync(fd);
        }
        return push(chunk, encoding);
      };
      return stream;
    });
    const result = await runBackup(repo, rewriting, { level: 'incremental' });
    expect(rewrites, 'the rewrite ran mid-read').toBe(1);
    expect(result.warnings.filter((w) => w.startsWith(name))).toEqual([
      `${name}: changed while being read (modified after the scan, same size); stored as read`,
    ]);
    // The next backup reads it again (the entry kept the scan's mtime) and has its latest content, without a warning.
    const next = await runBackup(repo, new FilesystemSource(root), { level: 'incremental' });
    expect(next.warnings.filter((w) => w.startsWith(name))).toEqual([]);
    const target = join(dir, 'restored-rewritten');
    await runRestore(
      repo,
      (await repo.catalog.listBackups()).find((b) => b.id === next.backupId)!,
      { target, include: [name] },
    );
    expect((await readFile(join(target, name))).equals(await readFile(path))).toBe(true);
  });

  it('a large (streamed) file left alone gets no warning', async () => {
    // The times the reader takes after a streamed read must not raise a warning by themselves.
    await writeFile(join(root, 'big-quiet.bin'), randomBytes(2 * 1024 * 1024 + 7));
    const quiet = await runBackup(repo, new FilesystemSource(root), { level: 'full' });
    expect(quiet.warnings).toEqual([]);
  });
});
