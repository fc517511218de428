import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScanThread } from './scan-thread.js';

describe('ScanThread', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tresor-scan-thread-'));
    await writeFile(join(root, 'a.key'), 'x');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('ends with undefined after the last batch, however often it is asked', async () => {
    const thread = new ScanThread(root);
    expect((await thread.next())?.map((item) => item.path)).toEqual(['a.key']);
    expect(await thread.next()).toBeUndefined();
    expect(await thread.next()).toBeUndefined();
    thread.close();
  });

  it('fails every later call with the thread exit once the thread dies, never with a TypeError', async () => {
    const thread = new ScanThread(root);
    // A thread that dies before answering: what a crash or a kill looks like from here.
    await (thread as unknown as { worker: Worker }).worker.terminate();
    for (let i = 0; i < 4; i++) await expect(thread.next()).rejects.toThrow(/scan thread exited/);
    thread.close();
  });
});
