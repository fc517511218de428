import { z } from 'zod';
import { isoTimeSchema } from './records.js';

/** The CloudEvents 1.0 JSON envelope every event travels in (with the distributed-tracing extension). */
export const cloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().optional(),
  time: isoTimeSchema,
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().optional(),
  traceparent: z.string().optional(),
  data: z.unknown(),
});
export type CloudEvent<T = unknown> = Omit<z.infer<typeof cloudEventSchema>, 'data'> & { data: T };

/** `io.tresor.backup.completed.v1` for event `backup.completed` version 1. */
export const eventType = (name: string, version: number): string => `io.tresor.${name}.v${version}`;
export const eventDataSchemaUri = (name: string, version: number): string => `urn:tresor:event:${name}:${version}`;
