import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Redis } from 'ioredis';
import type { Collection, Db } from 'mongodb';
import { IoError, UnauthenticatedError, UnavailableError } from '@tresor/errors';
import type { Identity } from './identity.js';
import { ROLES } from './roles.js';
import type { Role } from './roles.js';

export interface SessionTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds the access token is valid. */
  readonly expiresIn: number;
}

/** An Ed25519 key pair for session tokens: from a PKCS#8 PEM, or generated (then only this process can verify). */
export function sessionKeys(pem?: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (pem) {
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new UnauthenticatedError('the session signing key is not an Ed25519 key');
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  return generateKeyPairSync('ed25519');
}

interface RevocationDoc {
  _id: string;
  kind: 'session' | 'refresh';
  until: Date;
}

/**
 * Revoked sessions and used refresh tokens. MongoDB holds the record, Redis a copy that every
 * request reads: a Redis that lost its data (FLUSHALL, a restart without persistence) has lost the
 * `loaded` marker with it, and the next check reloads the copy before answering, so a logged-out
 * session cannot come back (docs/reliability.md, faults 30-31).
 */
export class RevocationList {
  private readonly records: Collection<RevocationDoc>;
  private readonly marker: string;

  constructor(
    private readonly redis: Redis,
    db: Db,
    private readonly prefix = 'tresor:auth:',
    private readonly now: () => number = Date.now,
  ) {
    this.records = db.collection<RevocationDoc>('auth_revocations');
    this.marker = `${prefix}revocations-loaded`;
  }

  /** Marks a session revoked for `ttlSeconds` (MongoDB first: a revocation Redis alone knows could be lost). */
  async revoke(sid: string, ttlSeconds: number): Promise<void> {
    const seconds = Math.max(1, Math.ceil(ttlSeconds));
    await this.records.updateOne({ _id: `session:${sid}` }, { $set: { kind: 'session', until: new Date(this.now() + seconds * 1000) } }, { upsert: true });
    await this.redis.set(this.key(sid), '1', 'EX', seconds);
  }

  /** Whether the session was revoked; one Redis round trip unless Redis lost its data. */
  async isRevoked(sid: string): Promise<boolean> {
    const [revoked, loaded] = await this.redis.mget(this.key(sid), this.marker);
    if (loaded !== null) return revoked !== null;
    await this.reload();
    return (await this.redis.exists(this.key(sid))) === 1;
  }

  /** Records a refresh token as used; false if it already was (a replayed refresh token). */
  async useOnce(jti: string, ttlSeconds: number): Promise<boolean> {
    const until = new Date(this.now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
    try {
      await this.records.insertOne({ _id: `refresh:${jti}`, kind: 'refresh', until });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  /** Copies every unexpired revocation from MongoDB into Redis, then sets the marker; drops expired records. */
  private async reload(): Promise<void> {
    try {
      const now = this.now();
      for await (const doc of this.records.find({ kind: 'session', until: { $gt: new Date(now) } })) {
        await this.redis.set(this.key(doc._id.slice('session:'.length)), '1', 'EX', Math.max(1, Math.ceil((doc.until.getTime() - now) / 1000)));
      }
      await this.redis.set(this.marker, new Date(now).toISOString());
      await this.records.deleteMany({ until: { $lte: new Date(now) } });
    } catch (err) {
      throw new UnavailableError(`cannot reload the session revocation list from MongoDB into Redis: ${(err as Error).message}`, { cause: err });
    }
  }

  private key(sid: string): string {
    return `${this.prefix}revoked:${sid}`;
  }
}

interface Claims {
  typ: 'access' | 'refresh';
  sid: string;
  name: string;
  kind: Identity['kind'];
  roles: Role[];
  tenants: string[];
}

/**
 * Short-lived EdDSA (Ed25519) JWT access tokens with rotating refresh tokens. A session id (`sid`)
 * ties both; revoking it ends the session on every gateway replica at once.
 */
export class SessionService {
  constructor(
    private readonly keys: { privateKey: KeyObject; publicKey: KeyObject },
    private readonly revocations: RevocationList,
    private readonly options: { issuer: string; accessTtlSeconds: number; refreshTtlSeconds: number },
  ) {}

  /** Starts a session for an authenticated identity. */
  issue(identity: Identity): Promise<SessionTokens> {
    return this.pair(identity, randomBytes(16).toString('base64url'));
  }

  /** The identity of a valid, unrevoked access token; throws UnauthenticatedError otherwise. */
  async verifyAccess(token: string): Promise<Identity & { sid: string }> {
    const c = await this.verify(token, 'access');
    return { subject: c.sub, name: c.name, kind: c.kind, roles: c.roles, tenants: c.tenants, sid: c.sid };
  }

  /** Exchanges a refresh token for a new pair; a refresh token works once (a replay ends the session). */
  async refresh(refreshToken: string): Promise<SessionTokens> {
    const c = await this.verify(refreshToken, 'refresh');
    if (!(await this.revocations.useOnce(c.jti, this.options.refreshTtlSeconds))) {
      await this.revocations.revoke(c.sid, this.options.refreshTtlSeconds);
      throw new UnauthenticatedError('refresh token already used: the session is revoked; log in again');
    }
    return this.pair({ subject: c.sub, name: c.name, kind: c.kind, roles: c.roles, tenants: c.tenants }, c.sid);
  }

  /** Ends a session at once (access and refresh tokens of it stop working). */
  async revoke(sid: string): Promise<void> {
    await this.revocations.revoke(sid, this.options.refreshTtlSeconds);
  }

  private async pair(identity: Identity, sid: string): Promise<SessionTokens> {
    const base: Claims = { typ: 'access', sid, name: identity.name, kind: identity.kind, roles: [...identity.roles], tenants: [...identity.tenants] };
    const sign = (claims: Claims, ttl: number) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .setIssuer(this.options.issuer)
        .setAudience(this.options.issuer)
        .setSubject(identity.subject)
        .setJti(randomBytes(12).toString('base64url'))
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(this.keys.privateKey);
    return {
      accessToken: await sign(base, this.options.accessTtlSeconds),
      refreshToken: await sign({ ...base, typ: 'refresh' }, this.options.refreshTtlSeconds),
      tokenType: 'Bearer',
      expiresIn: this.options.accessTtlSeconds,
    };
  }

  private async verify(token: string, typ: Claims['typ']): Promise<Claims & { sub: string; jti: string }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys.publicKey, { algorithms: ['EdDSA'], issuer: this.options.issuer, audience: this.options.issuer }));
    } catch {
      throw new UnauthenticatedError('the session token is invalid or expired; log in again (tresor login)');
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r)) : [];
    if (payload.typ !== typ || typeof payload.sid !== 'string' || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
      throw new UnauthenticatedError(`not a ${typ} token; log in again (tresor login)`);
    }
    const revoked = await this.revocations.isRevoked(payload.sid).catch((err: unknown) => {
      // Without the revocation list a logged-out session cannot be told apart: refuse, as an outage.
      if (err instanceof IoError) throw err;
      throw new UnavailableError(`cannot check the session revocation list in Redis: ${(err as Error).message}`, { cause: err });
    });
    if (revoked) throw new UnauthenticatedError('the session was logged out or revoked; log in again (tresor login)');
    const tenants = Array.isArray(payload.tenants) ? payload.tenants.filter((t): t is string => typeof t === 'string') : [];
    const kind = payload.kind === 'ldap' || payload.kind === 'local' || payload.kind === 'token' || payload.kind === 'oidc' ? payload.kind : 'ldap';
    return { typ, sid: payload.sid, sub: payload.sub, jti: payload.jti, name: String(payload.name ?? payload.sub), kind, roles, tenants };
  }
}
