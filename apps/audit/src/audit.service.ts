import type { JsMsg } from '@nats-io/jetstream';
import { cloudEventSchema, COMMANDS, EVENTS } from '@tresor/contracts';
import type { AuditEntry, ConsumerDefinition } from '@tresor/contracts';
import type { AuditLog, TrustedKeys } from '@tresor/audit-log';
import { verifyAuditChain } from '@tresor/audit-log';
import type { Bus, Logger } from '@tresor/messaging';
import { eventToAuditInput } from './events-to-entries.js';

/**
 * The audit service: the hash-chained log behind request/reply commands (`audit.append` answers
 * only once the entry is stored, so a caller can refuse what it cannot audit) and a consumer that
 * writes every event of TRESOR_EVENTS into the same chain.
 */
export class AuditService {
  constructor(
    private readonly bus: Bus,
    private readonly log: AuditLog,
    private readonly keys: TrustedKeys,
    private readonly logger: Logger,
  ) {}

  /** Serves audit.append, audit.verify and audit.entries. */
  serveCommands(): void {
    this.bus.serve(COMMANDS.auditAppend, async ({ entry }) => {
      const stored = await this.log.append(entry);
      this.announce(stored, stored.action);
      return { v: 1 as const, entry: stored };
    });
    this.bus.serve(COMMANDS.auditVerify, async () => ({ v: 1 as const, report: await verifyAuditChain(this.log.store, this.keys) }));
    this.bus.serve(COMMANDS.auditEntries, async ({ from, limit }) => {
      const entries = await this.log.store.read(from, limit);
      return { v: 1 as const, entries, next: entries.length === limit ? entries[entries.length - 1]!.seq + 1 : null };
    });
  }

  /**
   * Appends every event in stream order, one at a time (the consumer allows one unacked message).
   * The entry id is derived from the event id, so an event redelivered after it was stored but
   * before the ack is not appended again. Returns the stop function.
   */
  consumeEvents(consumer: ConsumerDefinition): () => Promise<void> {
    let stopping = false;
    let iterator: { close(): Promise<void | Error> } | undefined;
    const loop = (async () => {
      while (!stopping) {
        try {
          const c = await this.bus.js.consumers.get(consumer.stream, consumer.durable);
          const messages = await c.consume({ max_messages: 1 });
          iterator = messages;
          for await (const m of messages) {
            await this.handleEvent(m);
            if (stopping) break;
          }
        } catch (err) {
          if (stopping) break;
          this.logger.warn({ err: (err as Error).message }, 'audit consumer restarting');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
    return async () => {
      stopping = true;
      await iterator?.close();
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2000))]);
    };
  }

  private async handleEvent(m: JsMsg): Promise<void> {
    const parsed = cloudEventSchema.safeParse(safeJson(m.data));
    if (!parsed.success) {
      await this.bus.deadLetter(m.subject, m.data, `not a CloudEvent: ${parsed.error.issues[0]?.message}`);
      m.term();
      return;
    }
    const event = parsed.data;
    // The chain already records what audit.appended announces; storing those would double every entry.
    if (event.type.startsWith('io.tresor.audit.')) {
      m.ack();
      return;
    }
    try {
      const entry = await this.log.append(eventToAuditInput(event, m.info.streamSequence));
      await m.ackAck().catch(() => m.ack());
      this.announce(entry, event.type);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, eventId: event.id }, 'could not store event in the audit log; will retry');
      m.nak(1000);
    }
  }

  /** Tells integrators an entry is stored (best effort: the entry is stored whether or not this is published). */
  private announce(entry: AuditEntry, eventType: string): void {
    this.bus
      .publishEvent(EVENTS.auditAppended, { seq: entry.seq, eventId: entry.id, eventType }, { id: `audit-${entry.seq}-${entry.hash.slice(0, 16)}` })
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'could not publish audit.appended'));
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}
