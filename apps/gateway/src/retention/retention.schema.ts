import { z } from 'zod';
import { retentionPolicySchema } from '@tresor/repository';
import { errorResponse, json, ok } from '../core/openapi-parts.js';

/** POST /v1/retention/preview: a policy (the schema of tresor.json's retention, docs/retention.md) and a source location. */
export const retentionPreviewRequestSchema = z.strictObject({
  source: z.string().min(1).max(4096),
  policy: retentionPolicySchema,
});
export type RetentionPreviewRequest = z.infer<typeof retentionPreviewRequestSchema>;

/** One backup in a preview, with every reason for its verdict. */
const previewedBackupSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  level: z.string(),
  tags: z.array(z.string()),
  bytesStored: z.number().int(),
  reasons: z.array(z.string()),
});

/** The verdicts, newest first: what the policy keeps (each rule that keeps it) and what it would remove. */
export const retentionPreviewResponseSchema = z.object({
  source: z.string(),
  keep: z.array(previewedBackupSchema),
  remove: z.array(previewedBackupSchema),
});
export type RetentionPreviewResponse = z.infer<typeof retentionPreviewResponseSchema>;

/** OpenAPI paths of the retention feature. */
export const retentionPaths = {
  '/v1/retention/preview': {
    post: {
      summary: "Which of a source's backups a retention policy would keep, by which rule, and which it would remove (docs/retention.md); removes nothing",
      requestBody: json(retentionPreviewRequestSchema, 'input'),
      responses: { ...ok(retentionPreviewResponseSchema), ...errorResponse },
    },
  },
};
