import { TooLargeError } from '@tresor/errors';
import { COMMANDS, MAX_MESSAGE_BYTES, topology } from '@tresor/contracts';
import { describe, expect, it, onTestFinished } from 'vitest';
import { natsScope } from '../../../test/support/infra.js';
import { Bus } from './bus.js';
import { createLogger } from './logger.js';

describe('Bus', () => {
  it('refuses a command too large for one NATS message as TOO_LARGE (HTTP 413), before sending it', async () => {
    const nats = await natsScope();
    onTestFinished(() => nats.cleanup());
    const nc = await nats.connect();
    const t = topology({ subjectRoot: nats.subjectPrefix, namePrefix: nats.namePrefix });
    const bus = new Bus({ nc, topology: t, service: 'gateway', instance: 'bus-spec', logger: createLogger('gateway', 'bus-spec', 'silent') });
    // Nobody listens: a request that went out would fail with "no responders" (an UnavailableError, a 503).
    const sent: string[] = [];
    const sub = nc.subscribe(`${nats.subjectPrefix}.>`, { callback: (_err, msg) => {
      sent.push(msg.subject);
    } });
    onTestFinished(() => sub.unsubscribe());
    const entry = {
      actor: { user: 'u', roles: [], ip: null, userAgent: null },
      action: 'backups:create',
      target: '/etc/keys',
      outcome: 'success' as const,
      details: { note: 'x'.repeat(MAX_MESSAGE_BYTES) },
    };
    const failure = bus.request(COMMANDS.auditAppend, { v: 1, entry });
    await expect(failure).rejects.toBeInstanceOf(TooLargeError);
    await expect(failure).rejects.toThrow(/^audit\.append: the request makes a message of \d+ bytes, over the limit of 1048576/);
    await nc.flush();
    expect(sent).toEqual([]);
  });
});
