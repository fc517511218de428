/**
 * Audit log throughput: sequential appends (each waits for its store write; JSONL fsyncs every
 * line), concurrent appends (serialized by AuditLog), and a full verify, on the JSONL store in a
 * temporary directory and on the MongoDB store (TRESOR_TEST_MONGODB_URL, FerretDB locally).
 * Checkpoints every 100 entries, as the audit service does by default.
 *
 *   npx tsx bench/audit-append.ts [--entries 1000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { AuditLog, JsonlAuditStore, MongoAuditStore, trustedKeys, verifyAuditChain } from '../libs/audit-log/src/index.js';
import type { AuditStore } from '../libs/audit-log/src/index.js';
import { generateSigningKeyPair } from '../libs/crypto/src/index.js';
import { infraEnv } from '../test/support/infra.js';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '1000' } } });
const n = Number(values.entries);
const signer = generateSigningKeyPair();
const input = (i: number) => ({
  actor: { user: 'oscar.operator', roles: ['operator'], ip: '10.0.0.7', userAgent: 'bench' },
  action: 'backups:create',
  target: `/etc/keys/${i}`,
  outcome: 'success' as const,
  requestId: `req-${i}`,
  details: { phase: 'accepted', method: 'POST', route: '/v1/backups' },
});

async function run(name: string, store: AuditStore): Promise<void> {
  const log = new AuditLog({ store, signer, checkpointEvery: 100, checkpointIntervalMs: 3_600_000 });
  let started = performance.now();
  for (let i = 0; i < n; i++) await log.append(input(i));
  const sequential = n / ((performance.now() - started) / 1000);
  started = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => log.append(input(n + i))));
  const concurrent = n / ((performance.now() - started) / 1000);
  started = performance.now();
  const report = await verifyAuditChain(store, trustedKeys([signer.publicKeyPem]));
  const verifyMs = performance.now() - started;
  console.log(`${name}: sequential ${sequential.toFixed(0)} appends/s, concurrent ${concurrent.toFixed(0)} appends/s, verify of ${report.entries} entries (${report.checkpoints} checkpoints, ok=${report.ok}) ${verifyMs.toFixed(0)} ms`);
}

const dir = await mkdtemp(join(tmpdir(), 'tresor-bench-audit-'));
try {
  await run('JSONL (fsync per entry)', new JsonlAuditStore(dir));
} finally {
  await rm(dir, { recursive: true, force: true });
}
const url = process.env.TRESOR_TEST_MONGODB_URL ?? infraEnv().TRESOR_TEST_MONGODB_URL;
if (url) {
  const client = new MongoClient(url);
  const db = client.db(`tresor_bench_audit_${Date.now()}`);
  try {
    await run(`MongoDB wire (${url})`, await MongoAuditStore.open(db));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}
