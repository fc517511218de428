import { describe, expect, it } from 'vitest';
import { ExitCode, TresorError, WrongKeyError } from './tresor-error.js';

describe('TresorError', () => {
  it('carries a stable code, an exit code and its subclass name', () => {
    const err = new WrongKeyError('repository /r: wrong passphrase');
    expect(err).toBeInstanceOf(TresorError);
    expect(err.code).toBe('WRONG_KEY');
    expect(err.exitCode).toBe(ExitCode.WrongKey);
    expect(err.name).toBe('WrongKeyError');
  });
});
