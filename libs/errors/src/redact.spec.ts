import { afterEach, describe, expect, it } from 'vitest';
import { REDACTED, clearRegisteredSecrets, isSecretKey, redactText, redactValue, registerSecret, registerSecretsOf } from './redact.js';
import { UsageError } from './tresor-error.js';

afterEach(() => clearRegisteredSecrets());

describe('redaction', () => {
  it('knows secret-named fields and leaves ids, counts and times alone', () => {
    for (const k of ['passphrase', 'password', 'TRESOR_TOKEN', 'bindPassword', 'refresh_token', 'secretAccessKey', 'Authorization', 'cookie', 'apiKey', 'pin', 'privateKey', 'code_verifier', 'client_secret']) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ['tokenId', 'tokens', 'passwordChangedAt', 'mapping', 'shipping', 'user', 'path', 'kek']) expect(isSecretKey(k), k).toBe(false);
  });

  it('replaces registered values wherever they occur, longest first, also JSON-escaped and URL-encoded', () => {
    registerSecret('canary-"quoted"/pass');
    registerSecret('short'); // too short to register
    registerSecret('hunter2hunter2');
    registerSecret('hunter2hunter2-longer');
    expect(redactText('a hunter2hunter2-longer b hunter2hunter2 c short')).toBe(`a ${REDACTED} b ${REDACTED} c short`);
    expect(redactText(JSON.stringify({ msg: 'x canary-"quoted"/pass y' }))).not.toContain('quoted');
    expect(redactText(`https://h/?q=${encodeURIComponent('canary-"quoted"/pass')}`)).toBe(`https://h/?q=${REDACTED}`);
  });

  it('hides the password of any URL and registers config secrets', () => {
    expect(redactText('cannot connect to mongodb://tresor:s3cr%40t@db:27017/x')).toBe(`cannot connect to mongodb://tresor:${REDACTED}@db:27017/x`);
    registerSecretsOf({ TRESOR_LDAP_BIND_PASSWORD: 'bind-canary-1', TRESOR_MONGODB_URL: 'mongodb://u:url-canary-2@h/', TRESOR_HTTP_PORT: '8080' });
    expect(redactText('bind-canary-1 and url-canary-2 and 8080')).toBe(`${REDACTED} and ${REDACTED} and 8080`);
  });

  it('censors secret fields at any depth and keeps errors as errors', () => {
    registerSecret('value-canary-3');
    const err = new Error('failed with value-canary-3');
    const out = redactValue({ a: { b: [{ password: 'x', note: 'has value-canary-3' }] }, token: '', err, n: 1 });
    expect(out).toEqual({ a: { b: [{ password: REDACTED, note: `has ${REDACTED}` }] }, token: '', err, n: 1 });
    expect(out.err).toBeInstanceOf(Error);
    expect(out.err.message).toBe(`failed with ${REDACTED}`);
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    expect(() => redactValue(cyclic)).not.toThrow();
  });

  it('typed errors never carry a registered secret in their message', () => {
    registerSecret('error-canary-4');
    expect(new UsageError('wrong passphrase error-canary-4 given').message).toBe(`wrong passphrase ${REDACTED} given`);
  });
});
