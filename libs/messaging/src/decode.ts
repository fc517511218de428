import type { z } from 'zod';
import { MAX_MESSAGE_BYTES } from '@tresor/contracts';
import { MalformedMessageError } from './errors.js';

/**
 * Checks a JSON message body at a boundary: size, JSON, schema version, then the schema. Each
 * refusal names what was wrong, never the content (it may hold anything).
 */
export function decodeMessage<S extends z.ZodType>(data: Uint8Array, schema: S, expectedVersion: number, what: string): z.infer<S> {
  if (data.byteLength > MAX_MESSAGE_BYTES) {
    throw new MalformedMessageError(`${what}: message of ${data.byteLength} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    throw new MalformedMessageError(`${what}: message is not valid JSON`);
  }
  const v = (raw as { v?: unknown } | null)?.v;
  if (typeof raw !== 'object' || raw === null) throw new MalformedMessageError(`${what}: message is not a JSON object`);
  if (v === undefined) throw new MalformedMessageError(`${what}: message has no schema version (field v)`);
  if (v !== expectedVersion) {
    throw new MalformedMessageError(`${what}: unsupported schema version ${JSON.stringify(v)} (this service speaks ${expectedVersion})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MalformedMessageError(`${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export const encodeJson = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

/** A body parsed as JSON, or undefined when it is not JSON (for callers that check the result with a schema). */
export function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}
