import { z } from 'zod';
import { secretRefSchema } from '@tresor/secrets';

/** An email channel: SMTP with STARTTLS (default), implicit TLS, or plain text on a trusted network. */
export const emailChannelConfigSchema = z
  .object({
    type: z.literal('email'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** `starttls` refuses a server that does not offer it; `tls` is SMTPS (465); `none` never encrypts. */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    /** PEM file of the CA that signs the server certificate, if not a public one. */
    caFile: z.string().min(1).optional(),
    auth: z.object({ user: z.string().min(1), password: secretRefSchema }).strict().optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
    subjectPrefix: z.string().default('[tresor]'),
    timeoutMs: z.number().int().min(100).default(15_000),
  })
  .strict();
export type EmailChannelConfig = z.infer<typeof emailChannelConfigSchema>;
