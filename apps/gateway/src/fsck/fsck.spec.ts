import 'reflect-metadata';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Identity } from '@tresor/auth';
import { MongoCatalog } from '@tresor/catalog';
import { COMMANDS, topology } from '@tresor/contracts';
import { ForbiddenError } from '@tresor/errors';
import { Bus, createLogger, ensureTopology } from '@tresor/messaging';
import { mongoDatabase, natsScope } from '../../../../test/support/infra.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { FsckController } from './fsck.controller.js';

const admin = (tenants: string[]): Identity => ({ subject: `ldap:admin-${tenants.join('-')}`, name: `admin of ${tenants.join(', ')}`, kind: 'ldap', roles: ['admin'], tenants });

/** The fsck controller on a real NATS namespace, with a monitoring stand-in that counts the fsck requests it receives. */
async function fsckRoute() {
  const nats = await natsScope();
  onTestFinished(() => nats.cleanup());
  const mongo = await mongoDatabase();
  onTestFinished(() => mongo.cleanup());
  const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
  const logger = createLogger('gateway', 'test', 'silent');
  const nc = await nats.connect();
  await ensureTopology(nc, Object.values(t.streams), []);
  const bus = new Bus({ nc, topology: t, service: 'gateway', instance: 'gw-test', logger });
  const monitoringNc = await nats.connect();
  const monitoring = new Bus({ nc: monitoringNc, topology: t, service: 'monitoring', instance: 'mon-test', logger });
  const received: unknown[] = [];
  monitoring.serve(COMMANDS.monitoringFsck, async (req) => {
    received.push(req);
    return { v: 1 as const, report: { ok: true, backups: 0, locations: [], objects: 0, bytesRead: 0, readData: req.readData, findings: [], repairs: [] } };
  });
  await monitoringNc.flush();
  const tenants = new TenantsService(mongo.db, await MongoCatalog.open(mongo.db));
  return { controller: new FsckController(bus, tenants), received };
}

describe('POST /v1/fsck', () => {
  it('runs for an admin of every tenant, and refuses an admin of some tenants before asking the monitoring service (fsck reads and repairs every tenant)', { timeout: 60_000 }, async () => {
    const { controller, received } = await fsckRoute();
    await expect(controller.run(admin(['payments']), { repair: { olderThanSeconds: 0 } })).rejects.toThrow(ForbiddenError);
    await expect(controller.run(admin(['payments']), {})).rejects.toThrow(/^POST \/v1\/fsck covers every tenant: admin of payments may see only tenant payments$/);
    expect(received, 'nothing reached the monitoring service').toEqual([]);
    expect((await controller.run(admin(['*']), {})).report.ok).toBe(true);
    expect(received).toHaveLength(1);
  });
});
