// examples/events-consumer: type-checks, and against a real NATS JetStream prints every event
// published on the events stream (valid ones as JSON lines, invalid ones skipped with a reason).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS, eventDataSchemaUri, eventType, topology } from '@tresor/contracts';
import { ensureTopology } from '@tresor/messaging';
import { natsScope } from '../support/infra.js';
import type { NatsScope } from '../support/infra.js';
import { ROOT } from '../deploy/support.js';

const run = promisify(execFile);

describe('examples/events-consumer', () => {
  it('type-checks', async () => {
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'examples/tsconfig.json')], { cwd: ROOT });
  }, 180_000);

  describe('against NATS JetStream', () => {
    let scope: NatsScope;
    let nc: NatsConnection;
    beforeAll(async () => {
      scope = await natsScope();
      nc = await scope.connect();
    });
    afterAll(() => scope?.cleanup());

    it('prints each event of the stream once, and skips what it cannot validate', async () => {
      const t = topology({ subjectRoot: scope.subjectPrefix, namePrefix: scope.namePrefix });
      await ensureTopology(nc, Object.values(t.streams), []);
      const js = jetstream(nc);
      const publish = (name: string, version: number, data: unknown) =>
        js.publish(t.subjects.event(name), JSON.stringify({
          specversion: '1.0', id: randomUUID(), source: '/tresor/test/1', type: eventType(name, version), subject: 'job-1',
          time: new Date().toISOString(), datacontenttype: 'application/json', dataschema: eventDataSchemaUri(name, version), data,
        }));
      await publish(EVENTS.backupRequested.name, 1, EVENTS.backupRequested.example);
      await publish(EVENTS.backupCompleted.name, 1, { jobId: 'broken' });
      await publish(EVENTS.backupStarted.name, 1, EVENTS.backupStarted.example);

      const env = { ...process.env, TRESOR_NATS_URL: scope.servers, TRESOR_SUBJECT_ROOT: scope.subjectPrefix, TRESOR_NAME_PREFIX: scope.namePrefix, EXAMPLE_MAX_EVENTS: '3' };
      const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'examples/events-consumer/main.ts'), 'docs-test'], { env, timeout: 60_000 });
      const printed = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: unknown });
      expect(printed.map((p) => p.type)).toEqual(['io.tresor.backup.requested.v1', 'io.tresor.backup.started.v1']);
      expect(printed[0]!.data).toEqual(EVENTS.backupRequested.example);
      expect(stderr).toContain('data of io.tresor.backup.completed.v1');

      // Durable: a restart sees only what was published since.
      await publish(EVENTS.backupStarted.name, 1, { ...EVENTS.backupStarted.example, attempt: 2 });
      const again = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'examples/events-consumer/main.ts'), 'docs-test'], { env: { ...env, EXAMPLE_MAX_EVENTS: '1' }, timeout: 60_000 });
      expect((JSON.parse(again.stdout.trim()) as { data: { attempt: number } }).data.attempt).toBe(2);
    });
  });
});
