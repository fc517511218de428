import { hostname } from 'node:os';
import { z } from 'zod';
import { UsageError, registerSecretsOf } from '@tresor/errors';

/** Settings every service reads from its environment. */
export const baseConfigSchema = z.object({
  TRESOR_NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  TRESOR_SUBJECT_ROOT: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).default('tresor'),
  TRESOR_NAME_PREFIX: z.string().regex(/^[A-Za-z0-9_-]*$/).default(''),
  TRESOR_NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  TRESOR_JOB_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(30_000),
  TRESOR_JOB_MAX_DELIVER: z.coerce.number().int().min(1).default(5),
  TRESOR_MONGODB_URL: z.string().default('mongodb://127.0.0.1:27017/'),
  TRESOR_MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]+$/).default('tresor'),
  TRESOR_MONGODB_WRITE_CONCERN: z.string().default('majority'),
  TRESOR_MONGODB_READ_CONCERN: z.enum(['local', 'majority', 'linearizable', 'available', 'snapshot']).default('majority'),
  /** Health endpoints (and the API for the gateway). */
  TRESOR_HTTP_HOST: z.string().default('127.0.0.1'),
  TRESOR_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  TRESOR_INSTANCE: z.string().optional(),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Validates the environment at start (a bad value stops the service with one line naming it) and registers its secrets for redaction. */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  // From here on, the passwords and tokens of the configuration are replaced in every log line, event and error.
  registerSecretsOf(env);
  registerSecretsOf(parsed.data as Record<string, unknown>);
  return parsed.data;
}

export function instanceName(service: string, config: BaseConfig): string {
  return config.TRESOR_INSTANCE ?? `${service}@${hostname()}-${process.pid}`;
}
