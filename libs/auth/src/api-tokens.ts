import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { NotFoundError, UsageError, registerSecret } from '@tresor/errors';
import type { Identity } from './identity.js';
import type { Role } from './roles.js';

/** Every API token starts with this, so scanners (and the guard) recognise one. */
export const API_TOKEN_PREFIX = 'tresor_';

/** An API token as listed: never its secret, never its hash. */
export interface ApiTokenInfo {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly tenants: readonly string[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

interface ApiTokenDoc {
  _id: string;
  name: string;
  /** SHA-256 of the secret part: the secret has 256 random bits, so a slow hash adds nothing. */
  secretSha256: string;
  roles: Role[];
  tenants: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * API tokens for automation, in MongoDB (`api_tokens`). The token is shown once at creation; only
 * a hash is kept. Each request looks the token up, so a deleted token stops working at once.
 */
export class MongoApiTokenStore {
  private readonly tokens: Collection<ApiTokenDoc>;

  constructor(db: Db, private readonly now: () => Date = () => new Date()) {
    this.tokens = db.collection<ApiTokenDoc>('api_tokens');
  }

  /** Creates a token; the returned `token` is the only time its secret exists outside the caller. */
  async create(spec: { name: string; roles: Role[]; tenants: string[]; ttlSeconds: number; createdBy: string }): Promise<{ token: string; info: ApiTokenInfo }> {
    if (spec.roles.length === 0) throw new UsageError('an API token needs at least one role');
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const doc: ApiTokenDoc = {
      _id: id,
      name: spec.name,
      secretSha256: sha256(secret),
      roles: spec.roles,
      tenants: spec.tenants,
      createdBy: spec.createdBy,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + spec.ttlSeconds * 1000),
    };
    await this.tokens.insertOne(doc);
    const token = `${API_TOKEN_PREFIX}${id}_${secret}`;
    // Shown once to its creator, never again: not in a log line, event or error of this process either.
    registerSecret(token);
    registerSecret(secret);
    return { token, info: toInfo(doc) };
  }

  /** Every token, newest first (expired ones included until deleted). */
  async list(): Promise<ApiTokenInfo[]> {
    const docs = await this.tokens.find({}).sort({ createdAt: -1 }).toArray();
    return docs.map(toInfo);
  }

  /** Deletes (revokes) a token. */
  async revoke(id: string): Promise<void> {
    const r = await this.tokens.deleteOne({ _id: id });
    if (r.deletedCount === 0) throw new NotFoundError(`API token ${id} not found (see tresor tokens list)`);
  }

  /** The identity of a presented token; null if it is malformed, unknown, deleted or expired. */
  async verify(token: string): Promise<Identity | null> {
    const m = /^tresor_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return null;
    const doc = await this.tokens.findOne({ _id: m[1]! });
    if (!doc) return null;
    const a = Buffer.from(doc.secretSha256, 'hex');
    const b = Buffer.from(sha256(m[2]!), 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
    if (doc.expiresAt.getTime() <= this.now().getTime()) return null;
    return { subject: `token:${doc._id}`, name: doc.name, kind: 'token', roles: doc.roles, tenants: doc.tenants };
  }
}

function toInfo(d: ApiTokenDoc): ApiTokenInfo {
  return { id: d._id, name: d.name, roles: d.roles, tenants: d.tenants, createdBy: d.createdBy, createdAt: d.createdAt.toISOString(), expiresAt: d.expiresAt.toISOString() };
}
