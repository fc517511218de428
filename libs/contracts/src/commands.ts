import { z } from 'zod';
import { isoTimeSchema, sha256Schema, storageLocationSchema } from './records.js';
import { versioned } from './versioned.js';
import { AUDIT_COMMANDS } from './audit.js';
import { MONITORING_COMMAND_SCHEMAS } from './monitoring.js';
import { FSCK_COMMAND_SCHEMAS } from './fsck.js';

// The audit service's records and commands live in their own file; they are part of this vocabulary.
export * from './audit.js';

/**
 * Request/reply commands on `<root>.cmd.<name>`. A reply carries header `Tresor-Status: ok` and the
 * reply schema, or `Tresor-Status: error` and an ErrorBody. `binary` marks a side whose body is raw
 * bytes (archive chunks) described by headers instead of JSON.
 */
export interface CommandDefinition<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly version: number;
  readonly service: string;
  readonly description: string;
  readonly request: Req;
  readonly reply: Rep;
  readonly binaryRequest?: boolean;
  readonly binaryReply?: boolean;
  readonly example: { request: unknown; reply: unknown };
}

const objectKey = z.string().min(1).max(1024);
const objectInfo = z.object({ key: z.string(), size: z.number().int().nonnegative(), modified: isoTimeSchema.optional() });

function command<Req extends z.ZodType, Rep extends z.ZodType>(
  def: CommandDefinition<Req, Rep>,
): CommandDefinition<Req, Rep> {
  return def;
}

export const COMMANDS = {
  storageLocations: command({
    name: 'storage.locations',
    version: 1,
    service: 'storage-gateway',
    description: 'The storage locations the storage-gateway serves.',
    request: versioned(1, {}),
    reply: versioned(1, { locations: z.array(storageLocationSchema) }),
    example: { request: { v: 1 }, reply: { v: 1, locations: [{ name: 'primary', location: 'local:/srv/tresor/objects', capabilities: { immutability: false, rangedReads: true, serverSideCopy: false } }] } },
  }),
  storageHead: command({
    name: 'storage.head',
    version: 1,
    service: 'storage-gateway',
    description: 'Facts about an object, or null.',
    request: versioned(1, { key: objectKey }),
    reply: versioned(1, { object: objectInfo.nullable() }),
    example: { request: { v: 1, key: 'manifests/x.json' }, reply: { v: 1, object: { key: 'manifests/x.json', size: 812 } } },
  }),
  storageList: command({
    name: 'storage.list',
    version: 1,
    service: 'storage-gateway',
    description: 'One page of objects under a prefix, in key order; `next` continues.',
    request: versioned(1, { prefix: z.string().max(1024), after: z.string().max(1024).optional(), limit: z.number().int().min(1).max(1000) }),
    reply: versioned(1, { objects: z.array(objectInfo), next: z.string().nullable() }),
    example: { request: { v: 1, prefix: 'manifests/', limit: 100 }, reply: { v: 1, objects: [], next: null } },
  }),
  storageDelete: command({
    name: 'storage.delete',
    version: 1,
    service: 'storage-gateway',
    description: 'Removes an object (a missing object is not an error).',
    request: versioned(1, { key: objectKey }),
    reply: versioned(1, {}),
    example: { request: { v: 1, key: 'archives/x.tra' }, reply: { v: 1 } },
  }),
  storagePutBegin: command({
    name: 'storage.put.begin',
    version: 1,
    service: 'storage-gateway',
    description:
      'Starts a create-only upload; chunks follow on storage.put.chunk, then storage.put.commit. With several storage-gateway replicas, chunk, commit and abort go to `<subject>.<instance>` (the replica that began the upload, named in the reply).',
    request: versioned(1, { key: objectKey, expectedSha256: sha256Schema.optional() }),
    reply: versioned(1, { uploadId: z.string(), chunkBytes: z.number().int().positive(), instance: z.string().regex(/^[A-Za-z0-9_-]+$/).optional() }),
    example: { request: { v: 1, key: 'archives/x.tra' }, reply: { v: 1, uploadId: 'u-1', chunkBytes: 262144, instance: 'storage-gateway_host-1234' } },
  }),
  storagePutChunk: command({
    name: 'storage.put.chunk',
    version: 1,
    service: 'storage-gateway',
    description: 'Raw bytes of an upload; headers Tresor-Upload-Id and Tresor-Seq (0, 1, 2, ...). Replied to once written (flow control).',
    request: z.instanceof(Uint8Array),
    reply: versioned(1, { received: z.number().int().nonnegative() }),
    binaryRequest: true,
    example: { request: '<bytes>', reply: { v: 1, received: 262144 } },
  }),
  storagePutCommit: command({
    name: 'storage.put.commit',
    version: 1,
    service: 'storage-gateway',
    description: 'Ends an upload after `chunks` chunks; the object becomes visible atomically.',
    request: versioned(1, { uploadId: z.string(), chunks: z.number().int().nonnegative() }),
    reply: versioned(1, { size: z.number().int().nonnegative(), sha256: sha256Schema }),
    example: { request: { v: 1, uploadId: 'u-1', chunks: 3 }, reply: { v: 1, size: 700000, sha256: '0'.repeat(64) } },
  }),
  storagePutAbort: command({
    name: 'storage.put.abort',
    version: 1,
    service: 'storage-gateway',
    description: 'Abandons an upload; nothing becomes visible.',
    request: versioned(1, { uploadId: z.string() }),
    reply: versioned(1, {}),
    example: { request: { v: 1, uploadId: 'u-1' }, reply: { v: 1 } },
  }),
  storageGet: command({
    name: 'storage.get',
    version: 1,
    service: 'storage-gateway',
    description: 'Reads at most `length` bytes (<= 256 KiB) at `offset`; the reply is raw bytes with header Tresor-Eof.',
    request: versioned(1, { key: objectKey, offset: z.number().int().nonnegative(), length: z.number().int().min(1).max(256 * 1024) }),
    reply: z.instanceof(Uint8Array),
    binaryReply: true,
    example: { request: { v: 1, key: 'archives/x.tra', offset: 0, length: 262144 }, reply: '<bytes>' },
  }),
  monitoringStatus: command({
    name: 'monitoring.status',
    version: 1,
    service: 'monitoring',
    description: 'Health of every service seen recently and job outcomes since monitoring started.',
    request: versioned(1, {}),
    reply: versioned(1, {
      services: z.array(z.object({ service: z.string(), instance: z.string(), ready: z.boolean(), lastSeen: isoTimeSchema })),
      jobs: z.object({ completed: z.number().int(), failed: z.number().int() }),
    }),
    example: { request: { v: 1 }, reply: { v: 1, services: [], jobs: { completed: 0, failed: 0 } } },
  }),
  monitoringDrill: command({
    name: 'monitoring.drill',
    version: 1,
    service: 'monitoring',
    description: 'Runs a restore drill now (the gateway\'s POST /v1/drills): the latest (or a random recent) backup of the source, or of every source, restored into scratch space and deep-verified; replies with the recorded drills once they finished.',
    ...MONITORING_COMMAND_SCHEMAS.drill,
    example: {
      request: { v: 1, source: '/etc/keys' },
      reply: { v: 1, drills: [{ id: 'd-1', source: '/etc/keys', backupId: '20261126T100715Z-fa4d57e6', pick: 'latest', startedAt: '2026-11-26T10:07:26.000Z', finishedAt: '2026-11-26T10:07:26.340Z', rtoSeconds: 0.31, ok: true, files: 5, bytes: 18000, entriesVerified: 5 }] },
    },
  }),
  monitoringCompliance: command({
    name: 'monitoring.compliance',
    version: 1,
    service: 'monitoring',
    description: 'Evaluates the compliance controls (docs/compliance.md) over the cluster: MongoDB catalog, cluster schedules, drills, KEK versions, the audit chain, dual control.',
    ...MONITORING_COMMAND_SCHEMAS.compliance,
    example: { request: { v: 1 }, reply: { v: 1, report: { generatedAt: '2026-11-26T10:08:00.000Z', repositoryId: 'r-1', totals: { pass: 1, fail: 0, 'not-evaluated': 0, 'not-applicable': 0 }, repository: [{ control: 'audit-chain', status: 'pass', summary: 'audit chain of 14 entries verified', evidence: { entries: 14 } }], sources: [] } } },
  }),
  monitoringFsck: command({
    name: 'monitoring.fsck',
    version: 1,
    service: 'monitoring',
    description: 'Checks the catalog against the storage (the gateway\'s POST /v1/fsck, `tresor fsck --server`); with `repair`, deletes orphan objects older than `olderThanSeconds` (never what a catalogued backup reads, nor retained objects). Replies with the report once done.',
    ...FSCK_COMMAND_SCHEMAS,
    example: {
      request: { v: 1, readData: false, repair: { olderThanSeconds: 86400 } },
      reply: { v: 1, report: { ok: true, backups: 12, locations: ['storage-gateway:local:/srv/tresor/objects'], objects: 37, bytesRead: 0, readData: false, findings: [], repairs: [{ location: 'storage-gateway:local:/srv/tresor/objects', key: 'archives/20261126T100715Z-fa4d57e6.tra', backupId: '20261126T100715Z-fa4d57e6', outcome: 'deleted' }] } },
    },
  }),
  monitoringKeys: command({
    name: 'monitoring.keys',
    version: 1,
    service: 'monitoring',
    description: 'The KEK versions of the repository (GET /v1/keys): state, age against the cryptoperiod, provider types of their slots; read through the storage gateway, never key material.',
    ...MONITORING_COMMAND_SCHEMAS.keys,
    example: {
      request: { v: 1 },
      reply: { v: 1, keys: { repositoryId: 'r-1', generatedAt: '2026-11-26T10:08:00.000Z', warnDays: 30, providers: [{ type: 'passphrase', versions: [1] }], versions: [{ version: 1, state: 'active', createdAt: '2026-11-01T09:00:00.000Z', ageDays: 25, cryptoperiodDays: 365, defaulted: true, rotateBy: '2027-11-01T09:00:00.000Z', daysLeft: 339, status: 'ok', slots: [{ type: 'passphrase', kekId: 'kek-1' }] }], warnings: [] } },
    },
  }),
  ...AUDIT_COMMANDS,
} as const;
export type CommandName = keyof typeof COMMANDS;
export type CommandRequest<C extends CommandName> = z.infer<(typeof COMMANDS)[C]['request']>;
export type CommandReply<C extends CommandName> = z.infer<(typeof COMMANDS)[C]['reply']>;

/** What each service publishes on `<root>.health.<service>` every few seconds. */
export const heartbeatSchema = versioned(1, {
  service: z.string(),
  instance: z.string(),
  ready: z.boolean(),
  time: isoTimeSchema,
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;
