import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactText } from '@tresor/errors';
import { baseConfigSchema, loadConfig, mongoTlsOptions, natsConnectionOptions, redisTlsOptions } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'tresor-conncfg-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('connection settings (NATS credentials, TLS for NATS, MongoDB and Redis)', () => {
  it('refuses incomplete or contradictory settings with one line naming the variables', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TRESOR_NATS_USER: 'gateway' }, /TRESOR_NATS_USER: needs TRESOR_NATS_PASSWORD_FILE/],
      [{ TRESOR_NATS_PASSWORD: 'pw-only-1234' }, /TRESOR_NATS_PASSWORD: needs TRESOR_NATS_USER/],
      [{ TRESOR_NATS_USER: 'g', TRESOR_NATS_PASSWORD: 'a-password', TRESOR_NATS_PASSWORD_FILE: file('p', 'x') }, /set one, not both/],
      [{ TRESOR_NATS_USER: 'g', TRESOR_NATS_PASSWORD: 'a-password', TRESOR_NATS_NKEY_SEED_FILE: file('seed', 'SU...') }, /not both/],
      [{ TRESOR_NATS_TLS_CERT_FILE: file('c.pem', 'c') }, /TRESOR_NATS_TLS_CERT_FILE and TRESOR_NATS_TLS_KEY_FILE/],
      [{ TRESOR_REDIS_TLS_KEY_FILE: file('k.pem', 'k') }, /TRESOR_REDIS_TLS_CERT_FILE and TRESOR_REDIS_TLS_KEY_FILE/],
      [{ TRESOR_MONGODB_TLS_CA_FILE: join(dir, 'missing.pem') }, /TRESOR_MONGODB_TLS_CA_FILE: no such file/],
    ];
    for (const [env, message] of cases) expect(() => loadConfig(baseConfigSchema, env), JSON.stringify(env)).toThrow(message);
  });

  it('reads credentials from files, registers them for redaction, and builds the TLS options', () => {
    const ca = file('ca.pem', 'CA');
    const c = loadConfig(baseConfigSchema, {
      TRESOR_NATS_USER: 'recovery',
      TRESOR_NATS_PASSWORD_FILE: file('nats-pass', 'nats-file-password-77\n'),
      TRESOR_NATS_TLS_CA_FILE: ca,
      TRESOR_MONGODB_TLS_CA_FILE: ca,
      TRESOR_REDIS_TLS_CA_FILE: ca,
    });
    expect(natsConnectionOptions(c)).toEqual({ user: 'recovery', pass: 'nats-file-password-77', tls: { caFile: ca, certFile: undefined, keyFile: undefined } });
    expect(redactText('auth failed for nats-file-password-77')).not.toContain('nats-file-password-77');
    expect(mongoTlsOptions(c)).toEqual({ tls: true, tlsCAFile: ca });
    expect(redisTlsOptions(c).tls?.ca?.toString()).toBe('CA');
    const plain = loadConfig(baseConfigSchema, {});
    expect([natsConnectionOptions(plain), mongoTlsOptions(plain), redisTlsOptions(plain)]).toEqual([{}, {}, {}]);
  });
});
