import { timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// A valid argon2id hash of a random string: unknown names are checked against it too, so a
// wrong name and a wrong password take the same time.
let decoy: Promise<string> | undefined;

/**
 * The local break-glass admin: one name and an argon2id hash in config, for when the directory
 * is down. Every use is meant to be audited and alerted on.
 */
export class BreakGlassAuthenticator {
  constructor(private readonly account: { username: string; hash: string }) {}

  /** Whether this login is the break-glass account's name (so LDAP is not asked). */
  handles(username: string): boolean {
    return username === this.account.username;
  }

  /** Checks the password against the configured argon2id hash. */
  async authenticate(username: string, password: string): Promise<boolean> {
    const nameOk = safeEqual(username, this.account.username);
    const target = nameOk ? this.account.hash : await (decoy ??= hash(`decoy-${Math.random()}`, { algorithm: 2 }));
    const passwordOk = password.length > 0 && (await verify(target, password).catch(() => false));
    return nameOk && passwordOk;
  }
}

/** Makes the PHC string to put in TRESOR_AUTH_BREAKGLASS_HASH (argon2id, OWASP parameters). */
export function hashBreakGlassPassword(password: string): Promise<string> {
  // Algorithm 2 is argon2id in @node-rs/argon2; m=19 MiB, t=2, p=1 (OWASP 2023 minimum).
  return hash(password, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
