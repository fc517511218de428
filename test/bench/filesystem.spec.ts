import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { restoreTimingHazard, workFilesystem } from '../../bench/filesystem.js';

describe('the bench work filesystem', () => {
  it('names the filesystem that holds a directory, as /proc/mounts does', () => {
    const root = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields[1] === '/')
      .at(-1)!;
    const fs = workFilesystem('/');
    expect(fs.type).toBe(root[2]);
    expect(fs.journal === null).toBe(root[2] !== 'ext4');
  });

  it('has no journal question for tmpfs', () => {
    expect(workFilesystem('/dev/shm')).toMatchObject({ type: 'tmpfs', journal: null });
  });

  it('warns about ext4 without a journal only', () => {
    const ext4 = { source: '/dev/vdz', type: 'ext4', options: 'rw' };
    expect(restoreTimingHazard({ ...ext4, journal: false })).toMatch(/^\/dev\/vdz is ext4 without a journal: .*mount-scratch-fs\.sh/);
    expect(restoreTimingHazard({ ...ext4, journal: true })).toBeNull();
    expect(restoreTimingHazard({ source: 'tmpfs', type: 'tmpfs', options: 'rw', journal: null })).toBeNull();
  });
});
