import { cloudEventSchema } from '@tresor/contracts';
import { errorResponse, json } from '../core/openapi-parts.js';

/** OpenAPI paths of the events feature. */
export const eventsPaths = {
  '/v1/events': {
    get: {
      summary: 'Live job events (Server-Sent Events)',
      description:
        'A text/event-stream of the backup.*, verify.* and restore.* events (docs/events.md) of the jobs the caller may see. Each frame: `id` (the stream sequence; send it back as Last-Event-ID to resume), `event` (the event name, e.g. backup.progress), `data` (the CloudEvent JSON). A `: heartbeat` comment every 15 s. EventSource cannot send Authorization: read it with fetch. A caller holds at most 16 open streams per gateway replica (429 beyond).',
      parameters: [
        { name: 'job', in: 'query', required: false, schema: { type: 'string' }, description: "only this job's events, from its start (404 when the caller may not see it)" },
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'resume after this event id' },
      ],
      responses: {
        200: { description: 'the event stream (stays open)', content: { 'text/event-stream': json(cloudEventSchema).content['application/json'] } },
        ...errorResponse,
      },
    },
  },
};
