// audit: the append-only, hash-chained audit log (MongoDB) with signed checkpoints; consumes every
// event of TRESOR_EVENTS into the chain and serves audit.append / audit.verify / audit.entries.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { z } from 'zod';
import { AuditLog, MongoAuditStore, trustedKeys } from '@tresor/audit-log';
import { keyFingerprint } from '@tresor/crypto';
import { baseConfigSchema, loadConfig, mongoTlsOptions, runService, start } from '@tresor/service';
import { AuditService } from './audit.service.js';
import { loadOrCreateSigningKey } from './signing-key.js';

const configSchema = baseConfigSchema.extend({
  /** Ed25519 private key (PEM) that signs checkpoints; default `<TRESOR_REPO>/keys/audit-service.pem`. */
  TRESOR_AUDIT_KEY_FILE: z.string().optional(),
  TRESOR_REPO: z.string().optional(),
  /** Set by systemd (StateDirectory=): the key defaults to `<STATE_DIRECTORY>/audit-service.pem`. */
  STATE_DIRECTORY: z.string().optional(),
  /** Public keys (PEM files, comma-separated) of earlier checkpoint keys that verify still trusts. */
  TRESOR_AUDIT_TRUSTED_KEY_FILES: z.string().default(''),
  TRESOR_AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(100),
  TRESOR_AUDIT_CHECKPOINT_MS: z.coerce.number().int().min(1000).default(60_000),
});

start(async () => {
  const config = loadConfig(configSchema);
  const keyFile =
    config.TRESOR_AUDIT_KEY_FILE ??
    (config.TRESOR_REPO ? join(config.TRESOR_REPO, 'keys', 'audit-service.pem') : config.STATE_DIRECTORY ? join(config.STATE_DIRECTORY, 'audit-service.pem') : undefined);
  // Without a key the chain still detects edits, gaps and reorders, but nothing anchors its head.
  const signer = keyFile ? await loadOrCreateSigningKey(keyFile) : undefined;
  const retired = await Promise.all(config.TRESOR_AUDIT_TRUSTED_KEY_FILES.split(',').filter(Boolean).map((f) => readFile(f.trim(), 'utf8')));
  const keys = trustedKeys([...(signer ? [signer.publicKeyPem] : []), ...retired]);

  const client = new MongoClient(config.TRESOR_MONGODB_URL, { serverSelectionTimeoutMS: 10_000, appName: 'tresor-audit', ...mongoTlsOptions(config) });
  await client.connect();
  const store = await MongoAuditStore.open(client.db(config.TRESOR_MONGODB_DB));
  await runService({
    name: 'audit',
    config,
    consumers: (t) => [t.consumers.audit],
    async setup({ bus, topology, logger }) {
      if (signer) logger.info({ keyId: keyFingerprint(signer.publicKeyPem), keyFile, created: signer.created }, 'audit checkpoint key');
      else logger.warn('no TRESOR_AUDIT_KEY_FILE (nor TRESOR_REPO or STATE_DIRECTORY): audit checkpoints are not signed');
      const log = new AuditLog({
        store,
        ...(signer ? { signer } : {}),
        checkpointEvery: config.TRESOR_AUDIT_CHECKPOINT_EVERY,
        checkpointIntervalMs: config.TRESOR_AUDIT_CHECKPOINT_MS,
        onCheckpointError: (err) => logger.warn({ err: (err as Error).message }, 'audit checkpoint failed; retrying at the next append'),
      });
      const service = new AuditService(bus, log, keys, logger);
      service.serveCommands();
      const stopConsumer = service.consumeEvents(topology.consumers.audit);
      const stopTimer = log.startCheckpointTimer();
      return {
        stop: async () => {
          stopTimer();
          await stopConsumer();
          await client.close();
        },
      };
    },
  });
});
