import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@tresor/errors';
import { describe, expect, it } from 'vitest';
import { describeObjectStoreConformance } from '../../conformance/index.js';
import { LocalStore } from '../../local/local.store.js';
import { LimitedStore } from './limited.store.js';
import { ThrottledStore } from './throttled.store.js';

// The wrappers must keep the whole contract; their pacing is measured in bench/, never asserted here.
describeObjectStoreConformance('local, throttled to 256 MiB/s and 3 operations at a time', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-throttle-'));
  const local = await LocalStore.open({ path: join(dir, 'objects') });
  return {
    store: new ThrottledStore(new LimitedStore(local, 3), 256 * 1024 * 1024),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}, { wrongCredentials: { notApplicable: 'the wrappers add no credentials, and the wrapped local directory takes none' } });

describe('ThrottledStore and LimitedStore', () => {
  it.each([0, -1, 1.5])('refuse the limit %d', async (limit) => {
    const local = await LocalStore.open({ path: await mkdtemp(join(tmpdir(), 'tresor-throttle-')) });
    expect(() => new ThrottledStore(local, limit)).toThrow(UsageError);
    expect(() => new LimitedStore(local, limit)).toThrow(UsageError);
  });
});
