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

describe('UnavailableError', () => {
  it('is an I/O failure (exit 8) with its own code, and keeps its class across the wire', async () => {
    const { errorFromCode, IoError, UnavailableError } = await import('./tresor-error.js');
    const err = new UnavailableError('cannot search the directory at ldap://dir: ECONNREFUSED');
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.exitCode).toBe(ExitCode.Io);
    expect(err.name).toBe('UnavailableError');
    expect(errorFromCode('UNAVAILABLE', err.message)).toBeInstanceOf(UnavailableError);
    expect(new IoError('disk full').code).toBe('IO');
  });
});

describe('errorFromCode', () => {
  it('rebuilds the typed error behind a code, and nothing for an unknown one', async () => {
    const { errorFromCode, IntegrityError } = await import('./tresor-error.js');
    const err = errorFromCode('INTEGRITY', 'backup x: manifest tampered');
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err?.exitCode).toBe(ExitCode.Integrity);
    expect(errorFromCode('TEAPOT', 'x')).toBeUndefined();
  });
});
