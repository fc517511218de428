import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { UsageError, registerSecret, registerSecretsOf } from '@tresor/errors';

// A path the service must be able to read at start, so a typo stops it at once with the variable's name.
const readableFile = z.string().min(1).refine((f) => existsSync(f), 'no such file');

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
  /** NATS authentication: user and password (or a password file), or an nkey seed file; deploy/nats/ gives each service its own user. */
  TRESOR_NATS_USER: z.string().min(1).optional(),
  TRESOR_NATS_PASSWORD: z.string().min(1).optional(),
  TRESOR_NATS_PASSWORD_FILE: readableFile.optional(),
  TRESOR_NATS_NKEY_SEED_FILE: readableFile.optional(),
  /** TLS to NATS: the CA that signed the server's certificate, and a client certificate for mutual TLS. */
  TRESOR_NATS_TLS_CA_FILE: readableFile.optional(),
  TRESOR_NATS_TLS_CERT_FILE: readableFile.optional(),
  TRESOR_NATS_TLS_KEY_FILE: readableFile.optional(),
  /** TLS to MongoDB (also possible in the URL): CA file, and a PEM with client certificate and key. */
  TRESOR_MONGODB_TLS_CA_FILE: readableFile.optional(),
  TRESOR_MONGODB_TLS_CERT_KEY_FILE: readableFile.optional(),
  /** TLS to Redis (with a rediss:// URL): CA file, and a client certificate and key. */
  TRESOR_REDIS_TLS_CA_FILE: readableFile.optional(),
  TRESOR_REDIS_TLS_CERT_FILE: readableFile.optional(),
  TRESOR_REDIS_TLS_KEY_FILE: readableFile.optional(),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** The combinations a single field cannot check; each message names the variables to fix. */
function connectionProblems(c: Partial<BaseConfig>): string | undefined {
  const pass = c.TRESOR_NATS_PASSWORD ?? c.TRESOR_NATS_PASSWORD_FILE;
  if (c.TRESOR_NATS_PASSWORD && c.TRESOR_NATS_PASSWORD_FILE) return 'TRESOR_NATS_PASSWORD and TRESOR_NATS_PASSWORD_FILE: set one, not both';
  if (c.TRESOR_NATS_USER && !pass) return 'TRESOR_NATS_USER: needs TRESOR_NATS_PASSWORD_FILE (or TRESOR_NATS_PASSWORD)';
  if (pass && !c.TRESOR_NATS_USER) return 'TRESOR_NATS_PASSWORD: needs TRESOR_NATS_USER';
  if (c.TRESOR_NATS_NKEY_SEED_FILE && c.TRESOR_NATS_USER) return 'TRESOR_NATS_NKEY_SEED_FILE and TRESOR_NATS_USER: use an nkey or a user and password, not both';
  for (const [cert, key] of [
    ['TRESOR_NATS_TLS_CERT_FILE', 'TRESOR_NATS_TLS_KEY_FILE'],
    ['TRESOR_REDIS_TLS_CERT_FILE', 'TRESOR_REDIS_TLS_KEY_FILE'],
  ] as const) {
    if (Boolean(c[cert]) !== Boolean(c[key])) return `${cert} and ${key}: a client certificate needs both`;
  }
  return undefined;
}

/** Options for connectNats from the configuration (credentials read from their files now). */
export function natsConnectionOptions(c: BaseConfig): { user?: string; pass?: string; nkeySeed?: string; tls?: { caFile?: string; certFile?: string; keyFile?: string } } {
  const pass = c.TRESOR_NATS_PASSWORD ?? (c.TRESOR_NATS_PASSWORD_FILE ? secretFile(c.TRESOR_NATS_PASSWORD_FILE) : undefined);
  const tls = c.TRESOR_NATS_TLS_CA_FILE || c.TRESOR_NATS_TLS_CERT_FILE ? { caFile: c.TRESOR_NATS_TLS_CA_FILE, certFile: c.TRESOR_NATS_TLS_CERT_FILE, keyFile: c.TRESOR_NATS_TLS_KEY_FILE } : undefined;
  return {
    ...(c.TRESOR_NATS_USER ? { user: c.TRESOR_NATS_USER, pass } : {}),
    ...(c.TRESOR_NATS_NKEY_SEED_FILE ? { nkeySeed: secretFile(c.TRESOR_NATS_NKEY_SEED_FILE) } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** MongoClient TLS options from the configuration (empty when TLS is set in the URL or not used). */
export function mongoTlsOptions(c: BaseConfig): { tls?: boolean; tlsCAFile?: string; tlsCertificateKeyFile?: string } {
  if (!c.TRESOR_MONGODB_TLS_CA_FILE && !c.TRESOR_MONGODB_TLS_CERT_KEY_FILE) return {};
  return { tls: true, ...(c.TRESOR_MONGODB_TLS_CA_FILE ? { tlsCAFile: c.TRESOR_MONGODB_TLS_CA_FILE } : {}), ...(c.TRESOR_MONGODB_TLS_CERT_KEY_FILE ? { tlsCertificateKeyFile: c.TRESOR_MONGODB_TLS_CERT_KEY_FILE } : {}) };
}

/**
 * ioredis options to spread: `{ tls }` from the configuration, or nothing (plain, or the defaults a
 * rediss:// URL gives; an explicit `tls: undefined` would override those).
 */
export function redisTlsOptions(c: BaseConfig): { tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } } {
  if (!c.TRESOR_REDIS_TLS_CA_FILE && !c.TRESOR_REDIS_TLS_CERT_FILE) return {};
  return {
    tls: {
      ...(c.TRESOR_REDIS_TLS_CA_FILE ? { ca: readFileSync(c.TRESOR_REDIS_TLS_CA_FILE) } : {}),
      ...(c.TRESOR_REDIS_TLS_CERT_FILE && c.TRESOR_REDIS_TLS_KEY_FILE ? { cert: readFileSync(c.TRESOR_REDIS_TLS_CERT_FILE), key: readFileSync(c.TRESOR_REDIS_TLS_KEY_FILE) } : {}),
    },
  };
}

function secretFile(file: string): string {
  const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  registerSecret(value);
  return value;
}

/** Validates the environment at start (a bad value stops the service with one line naming it) and registers its secrets for redaction. */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const problem = connectionProblems(parsed.data as Partial<BaseConfig>);
  if (problem) throw new UsageError(`configuration: ${problem}`);
  // From here on, the passwords and tokens of the configuration are replaced in every log line, event and error.
  registerSecretsOf(env);
  registerSecretsOf(parsed.data as Record<string, unknown>);
  return parsed.data;
}

export function instanceName(service: string, config: BaseConfig): string {
  return config.TRESOR_INSTANCE ?? `${service}@${hostname()}-${process.pid}`;
}
