// Real-client readiness checks used by test/infra/up: each one does a real operation through the
// same client library the code under test uses, and exits non-zero with the reason otherwise.
// Usage: node test/infra/lib/probe.mjs <nats|mongo|azure> <endpoint>
import { setTimeout, clearTimeout } from 'node:timers';

const [kind, endpoint] = process.argv.slice(2);
const timer = setTimeout(() => {
  console.error(`probe ${kind}: timed out after 8 s`);
  process.exit(3);
}, 8000);

async function nats(url) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: url, timeout: 2000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    const info = await jsm.getAccountInfo();
    return `jetstream ok (streams=${info.streams}) server=${nc.info?.version}`;
  } finally {
    await nc.close();
  }
}

async function mongo(url) {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    const db = client.db('tresor_probe');
    await db.command({ ping: 1 });
    const col = db.collection('probe');
    const { insertedId } = await col.insertOne({ at: new Date() });
    const found = await col.findOne({ _id: insertedId });
    if (!found) throw new Error('inserted document not found');
    await col.deleteOne({ _id: insertedId });
    const info = await client.db('admin').command({ buildInfo: 1 });
    return `insert/find ok, reports MongoDB ${info.version}`;
  } finally {
    await client.close();
  }
}

async function azure(connectionString) {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const svc = BlobServiceClient.fromConnectionString(connectionString);
  const container = svc.getContainerClient('tresor-probe');
  await container.createIfNotExists();
  const blob = container.getBlockBlobClient('probe.txt');
  await blob.upload('ok', 2);
  const body = await blob.downloadToBuffer();
  if (body.toString() !== 'ok') throw new Error('downloaded blob differs');
  return 'container + blob upload/download ok';
}

const probes = { nats, mongo, azure };
const probe = probes[kind];
if (!probe || !endpoint) {
  console.error(`usage: probe.mjs <${Object.keys(probes).join('|')}> <endpoint>`);
  process.exit(2);
}
try {
  console.log(await probe(endpoint));
  clearTimeout(timer);
  process.exit(0);
} catch (err) {
  console.error(`probe ${kind} failed: ${err?.message ?? err}`);
  process.exit(1);
}
