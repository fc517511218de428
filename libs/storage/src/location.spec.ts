import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openLocation, parseStorageLocation } from './location.js';

describe('parseStorageLocation', () => {
  it('validates the common fields and the backend settings, resolving a relative local path', () => {
    expect(parseStorageLocation({ name: 'primary', type: 'local', path: 'objects' }, '/srv/repo')).toEqual({
      name: 'primary',
      type: 'local',
      settings: { path: '/srv/repo/objects' },
    });
    expect(
      parseStorageLocation({
        name: 'offsite',
        type: 's3',
        bucket: 'tresor-b',
        bandwidthLimit: 1_000_000,
        parallelism: 4,
      }),
    ).toMatchObject({
      name: 'offsite',
      type: 's3',
      bandwidthLimit: 1_000_000,
      parallelism: 4,
      settings: { bucket: 'tresor-b' },
    });
  });

  it.each([
    [{ type: 'local', path: '/x' }, /storage location: name: /],
    [{ name: 'Bad Name', type: 'local', path: '/x' }, /storage location Bad Name: name: must be/],
    [{ name: 'x', type: 'tape' }, /storage location x: type: /],
    [
      { name: 'x', type: 's3', bucket: 'b-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' } },
      /storage location x: s3 storage credentials\.accessKeyId/,
    ],
    [
      { name: 'x', type: 'sftp', host: 'h', username: 'u', path: '/p', password: { env: 'P' } },
      /storage location x: sftp storage hostKey/,
    ],
    [{ name: 'x', type: 'local', path: '/x', bandwidthLimit: 0 }, /storage location x: bandwidthLimit/],
    ['local', /expected an object/],
  ])('rejects %j naming location and field', (input, message) => {
    expect(() => parseStorageLocation(input)).toThrow(message);
  });
});

describe('openLocation', () => {
  it('applies bandwidth and parallelism limits around the backend', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tresor-location-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const store = await openLocation(
      parseStorageLocation({
        name: 'l',
        type: 'local',
        path: join(dir, 'o'),
        bandwidthLimit: 10_000_000,
        parallelism: 2,
      }),
    );
    expect(store.constructor.name).toBe('ThrottledStore');
    expect(store.location).toBe(`local:${join(dir, 'o')}`);
    await store.put('k', Buffer.from('v'));
    expect(await store.head('k')).toMatchObject({ size: 1 });
  });
});
