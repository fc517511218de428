import { afterEach, describe, expect, it, vi } from 'vitest';
import { REDACTED, clearRegisteredSecrets, registerSecret } from '@tresor/errors';
import { createLogger } from './logger.js';

afterEach(() => {
  clearRegisteredSecrets();
  vi.restoreAllMocks();
});

describe('createLogger', () => {
  it('censors secret-named fields at any depth and replaces registered values in the whole line', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
    registerSecret('log-canary-5');
    const logger = createLogger('svc', 'svc@test');
    logger.info({ deep: { deeper: { bindPassword: 'bp-1', apiKey: 'k-1' } }, user: 'alice' }, 'login');
    logger.error({ err: new Error('cannot open with log-canary-5') }, 'failed for log-canary-5');
    logger.info({ request: { headers: { authorization: 'Bearer abc', cookie: 'c=1' } } }, 'req');
    const text = lines.join('');
    expect(lines.length).toBe(3);
    for (const leaked of ['bp-1', 'k-1', 'log-canary-5', 'Bearer abc', 'c=1']) expect(text).not.toContain(leaked);
    expect(text).toContain('alice');
    expect(text).toContain(REDACTED);
    expect(JSON.parse(lines[1]!).err.type).toBe('Error');
  });
});
