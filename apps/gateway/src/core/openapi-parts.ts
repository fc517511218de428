import { z } from 'zod';
import { errorBodySchema, jobResponseSchema } from '@tresor/contracts';

// Building blocks for each feature's OpenAPI paths (<feature>/<feature>.schema.ts).
export const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => ({
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) } },
});
export const errorResponse = { default: { description: 'error', ...json(errorBodySchema) } };
export const ok = (schema: z.ZodType, description = 'OK') => ({ 200: { description, ...json(schema) }, ...errorResponse });
export const accepted = { 202: { description: 'job accepted', ...json(jobResponseSchema) }, ...errorResponse };
export const idem = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' }, description: 'repeat a POST safely: the same key returns the same job' };
export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
