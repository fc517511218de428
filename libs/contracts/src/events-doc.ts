import { z } from 'zod';
import { COMMANDS } from './commands.js';
import type { CommandDefinition } from './commands.js';
import { eventDataSchemaUri, eventType } from './cloudevents.js';
import { EVENTS } from './events.js';
import type { EventDefinition } from './events.js';
import { JOBS } from './jobs.js';
import type { JobDefinition } from './jobs.js';
import { subjects } from './subjects.js';
import { topology } from './streams.js';

const fence = (value: unknown): string => '```json\n' + JSON.stringify(value, null, 2) + '\n```';
const schemaOf = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

/** Renders docs/events.md (the integrators' reference) from the schemas; `npm run docs:events` writes it. */
export function renderEventsDoc(): string {
  const s = subjects();
  const t = topology();
  const out: string[] = [
    '# Tresor cluster messages',
    '',
    '<!-- Generated from libs/contracts by `npm run docs:events`; do not edit by hand. -->',
    '',
    'Every subject starts with the configurable root `tresor`. Every JSON body carries its schema',
    'version in `v` (events: in the CloudEvent `type`); a receiver rejects a version it does not speak',
    'with an error reply (commands) or a dead letter (jobs, events) naming both versions.',
    'Trace context travels in the W3C `traceparent` header (and, on events, the CloudEvents',
    '`traceparent` attribute). Bodies over 1 MiB are rejected.',
    '',
    '## Events',
    '',
    `Published on stream \`${t.streams.events.name}\` (subjects \`${s.events}\`) as CloudEvents 1.0 JSON:`,
    '`specversion` `1.0`, `id` (unique; also the JetStream message id), `source` (`/tresor/<service>/<instance>`),',
    '`type` (`io.tresor.<name>.v<version>`), `subject` (the job id where there is one), `time`,',
    '`datacontenttype` `application/json`, `dataschema` (`urn:tresor:event:<name>:<version>`), `traceparent`, `data`.',
    '',
  ];
  for (const def of Object.values(EVENTS) as EventDefinition[]) {
    out.push(
      `### ${def.name} (v${def.version})`,
      '',
      def.description,
      '',
      `- subject: \`${s.event(def.name)}\``,
      `- type: \`${eventType(def.name, def.version)}\``,
      `- dataschema: \`${eventDataSchemaUri(def.name, def.version)}\``,
      '',
      'Schema of `data`:',
      '',
      fence(schemaOf(def.data)),
      '',
      'Example `data`:',
      '',
      fence(def.example),
      '',
    );
  }
  out.push('## Jobs', '', 'Work-queue messages (JetStream, explicit ack; the job id is the message id).', '');
  for (const def of Object.values(JOBS) as JobDefinition[]) {
    out.push(`### ${def.kind} (v${def.version})`, '', def.description, '', `- subject: \`${s.job(def.kind)}\``, '', fence(schemaOf(def.schema)), '', 'Example:', '', fence(def.example), '');
  }
  out.push(
    '## Commands',
    '',
    'Request/reply on `tresor.cmd.<name>`. Replies carry header `Tresor-Status: ok` and the reply body, or',
    '`Tresor-Status: error` and `{"error":{"code":"…","message":"…"}}` (`code` is a Tresor error code:',
    '`USAGE`, `NOT_FOUND`, `CONFLICT`, `INTEGRITY`, `UNSUPPORTED`, `IO`, `INTERNAL`).',
    '',
  );
  for (const def of Object.values(COMMANDS) as CommandDefinition[]) {
    out.push(`### ${def.name} (v${def.version}, served by ${def.service})`, '', def.description, '', `- subject: \`${s.command(def.name)}\``, '');
    out.push('Request:', '', def.binaryRequest ? 'raw bytes (see above)' : fence(schemaOf(def.request)), '');
    out.push('Reply:', '', def.binaryReply ? 'raw bytes (see above)' : fence(schemaOf(def.reply)), '');
    out.push('Example:', '', fence(def.example), '');
  }
  out.push('## Streams and consumers', '', 'Defaults; replicas, ack wait and max deliver are configurable per deployment.', '');
  out.push('| stream | subjects | retention | max age | replicas | duplicate window |', '|---|---|---|---|---|---|');
  for (const st of Object.values(t.streams)) {
    out.push(`| ${st.name} | ${st.subjects.map((x) => `\`${x}\``).join(', ')} | ${st.retention} | ${st.maxAgeMs / 86_400_000} d | ${st.replicas} | ${st.duplicateWindowMs / 1000} s |`);
  }
  out.push('', '| durable consumer | stream | ack wait | max deliver | backoff | max ack pending |', '|---|---|---|---|---|---|');
  for (const c of Object.values(t.consumers)) {
    out.push(`| ${c.durable} | ${c.stream} | ${c.ackWaitMs / 1000} s | ${c.maxDeliver} | ${c.backoffMs.map((b) => `${b / 1000} s`).join(', ') || '–'} | ${c.maxAckPending} |`);
  }
  out.push('');
  return out.join('\n');
}
