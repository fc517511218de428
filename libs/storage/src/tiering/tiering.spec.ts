import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedError, UsageError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer } from '../../../../test/support/infra.js';
import { AzureStore } from '../azure/azure.store.js';
import { parseAzureConfig } from '../azure/config.js';
import { LocalStore } from '../local/local.store.js';
import { parseStorageLocation } from '../location.js';
import type { ObjectInfo, ObjectStore } from '../object-store.js';
import { storageCost } from './cost.js';
import { parseLifecyclePolicy } from './policy.js';
import { tierObjects } from './tier.js';

const now = new Date('2026-11-26T00:00:00Z');
const daysAgo = (days: number): Date => new Date(now.getTime() - days * 86_400_000);

async function listAll(store: ObjectStore, prefix = ''): Promise<ObjectInfo[]> {
  const items: ObjectInfo[] = [];
  for await (const info of store.list(prefix)) items.push(info);
  return items;
}

describe('lifecycle and prices in a location', () => {
  it('keeps a valid policy and price table beside the backend settings', () => {
    expect(
      parseStorageLocation({
        name: 'offsite',
        type: 's3',
        bucket: 'tresor-b',
        lifecycle: {
          tiering: [
            { afterDays: 30, class: 'STANDARD_IA' },
            { afterDays: 180, class: 'DEEP_ARCHIVE' },
          ],
        },
        prices: { perGiBMonth: { STANDARD: 0.023, DEEP_ARCHIVE: 0.00099 } },
      }),
    ).toMatchObject({
      settings: { bucket: 'tresor-b' },
      lifecycle: {
        tiering: [
          { afterDays: 30, storageClass: 'STANDARD_IA' },
          { afterDays: 180, storageClass: 'DEEP_ARCHIVE' },
        ],
      },
      prices: { currency: 'USD', perGiBMonth: { STANDARD: 0.023, DEEP_ARCHIVE: 0.00099 } },
    });
  });

  it.each([
    [
      { type: 'local', path: '/x', lifecycle: { tiering: [{ afterDays: 30, class: 'COOL' }] } },
      'storage location x: lifecycle: local storage has no storage classes to move archives to',
    ],
    [
      {
        type: 'azure',
        container: 'cont',
        connectionString: { env: 'C' },
        lifecycle: { tiering: [{ afterDays: 30, class: 'COOL' }] },
      },
      'storage location x: lifecycle.tiering.0.class: COOL is not a azure storage class (Hot, Cool, Cold, Archive)',
    ],
    [
      {
        type: 'gcs',
        bucket: 'b-1',
        lifecycle: {
          tiering: [
            { afterDays: 90, class: 'COLDLINE' },
            { afterDays: 30, class: 'ARCHIVE' },
          ],
        },
      },
      'storage location x: lifecycle.tiering.1: rules must go to ever colder classes (STANDARD < NEARLINE < COLDLINE < ARCHIVE) after ever more days, and never to STANDARD',
    ],
    [
      { type: 'gcs', bucket: 'b-1', lifecycle: { tiering: [{ afterDays: 0, class: 'COLDLINE' }] } },
      /^storage location x: lifecycle\.tiering\.0\.afterDays: /,
    ],
    [
      { type: 'gcs', bucket: 'b-1', lifecycle: { tiering: [] } },
      'storage location x: lifecycle.tiering: name at least one rule { afterDays, class }',
    ],
    [
      { type: 's3', bucket: 'b-1', prices: { perGiBMonth: { Cool: 0.01 } } },
      'storage location x: prices.perGiBMonth.Cool: not a s3 storage class; use STANDARD, REDUCED_REDUNDANCY, INTELLIGENT_TIERING, STANDARD_IA, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE, default',
    ],
    [
      { type: 'local', path: '/x', prices: { perGiBMonth: { default: -1 } } },
      /^storage location x: prices\.perGiBMonth\.default: /,
    ],
    [
      { type: 'local', path: '/x', prices: { currency: 'dollars', perGiBMonth: { default: 1 } } },
      /prices\.currency: must be an ISO 4217 code/,
    ],
  ])('refuses %j', (raw, message) => {
    const parse = (): unknown => parseStorageLocation({ name: 'x', ...raw });
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(message);
  });
});

describe('tierObjects (Azurite)', () => {
  async function azureStore(): Promise<AzureStore> {
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    process.env.TRESOR_SPEC_AZURE_CONNECTION = azure.connectionString;
    return AzureStore.open(
      parseAzureConfig({
        container: azure.containerName,
        connectionString: { env: 'TRESOR_SPEC_AZURE_CONNECTION' },
      }),
    );
  }

  it('moves archives by age to the rule they reached, never warmer, leaves other keys alone, and is idempotent', async () => {
    const store = await azureStore();
    const ages: Record<string, number> = {
      'archives/new.tra': 5,
      'archives/month.tra': 40,
      'archives/old.tra': 100,
      'archives/archived.tra': 40,
      'manifests/old.json': 100,
    };
    for (const [key, age] of Object.entries(ages)) await store.put(key, Buffer.alloc(age * 10));
    await store.setStorageClass('archives/archived.tra', 'Archive');
    const policy = parseLifecyclePolicy(
      {
        tiering: [
          { afterDays: 30, class: 'Cool' },
          { afterDays: 90, class: 'Archive' },
        ],
      },
      'azure',
    );
    const options = { prefix: 'archives/', now, bornAt: (info: ObjectInfo) => daysAgo(ages[info.key]!) };

    const plan = await tierObjects(store, policy, { ...options, dryRun: true });
    expect(plan).toEqual([
      { key: 'archives/month.tra', from: 'Hot', to: 'Cool', ageDays: 40, outcome: 'planned' },
      { key: 'archives/old.tra', from: 'Hot', to: 'Archive', ageDays: 100, outcome: 'planned' },
    ]);
    expect((await store.head('archives/old.tra'))?.storageClass).toBe('Hot');

    const done = await tierObjects(store, policy, options);
    expect(done.map((a) => [a.key, a.outcome])).toEqual([
      ['archives/month.tra', 'moved'],
      ['archives/old.tra', 'moved'],
    ]);
    const classes = Object.fromEntries((await listAll(store)).map((i) => [i.key, i.storageClass]));
    expect(classes).toEqual({
      'archives/archived.tra': 'Archive',
      'archives/month.tra': 'Cool',
      'archives/new.tra': 'Hot',
      'archives/old.tra': 'Archive',
      'manifests/old.json': 'Hot',
    });
    expect(await tierObjects(store, policy, options)).toEqual([]);

    // The cost of what is there now, per source and class; unlisted classes fall back to `default`.
    const group = (key: string): string => (key.includes('old') ? 'source-a' : 'source-b');
    const lines = await storageCost(
      [
        {
          location: 'cloud',
          prices: { currency: 'EUR', perGiBMonth: { Hot: 0.02, Archive: 0.002, default: 0.01 } },
          objects: store.list(''),
        },
      ],
      group,
    );
    expect(lines).toEqual([
      {
        location: 'cloud',
        group: 'source-a',
        storageClass: 'Archive',
        objects: 1,
        bytes: 1000,
        pricePerGiBMonth: 0.002,
        currency: 'EUR',
        monthlyCost: (1000 / 1024 ** 3) * 0.002,
      },
      {
        location: 'cloud',
        group: 'source-a',
        storageClass: 'Hot',
        objects: 1,
        bytes: 1000,
        pricePerGiBMonth: 0.02,
        currency: 'EUR',
        monthlyCost: (1000 / 1024 ** 3) * 0.02,
      },
      {
        location: 'cloud',
        group: 'source-b',
        storageClass: 'Archive',
        objects: 1,
        bytes: 400,
        pricePerGiBMonth: 0.002,
        currency: 'EUR',
        monthlyCost: (400 / 1024 ** 3) * 0.002,
      },
      {
        location: 'cloud',
        group: 'source-b',
        storageClass: 'Cool',
        objects: 1,
        bytes: 400,
        pricePerGiBMonth: 0.01,
        currency: 'EUR',
        monthlyCost: (400 / 1024 ** 3) * 0.01,
      },
      {
        location: 'cloud',
        group: 'source-b',
        storageClass: 'Hot',
        objects: 1,
        bytes: 50,
        pricePerGiBMonth: 0.02,
        currency: 'EUR',
        monthlyCost: (50 / 1024 ** 3) * 0.02,
      },
    ]);
  });
});

describe('tierObjects and storageCost on a store without classes', () => {
  it('refuses a lifecycle on local storage, and prices its objects as `default`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tresor-tier-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const store = await LocalStore.open({ path: dir });
    expect(store.capabilities.storageClasses).toBeUndefined();
    await store.put('archives/a.tra', Buffer.alloc(2048));
    const policy = { tiering: [{ afterDays: 1, storageClass: 'Cool' }] };
    await expect(tierObjects(store, policy, { prefix: 'archives/', now })).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    expect(await storageCost([{ location: 'disk', objects: store.list('') }], () => 'all')).toEqual([
      { location: 'disk', group: 'all', storageClass: 'default', objects: 1, bytes: 2048 },
    ]);
  });
});
