import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError, clearRegisteredSecrets, redactText } from '@tresor/errors';
import { resolveSecret, resolveSecretBytes, secretRefSchema } from './secret-ref.js';

describe('secret references', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-secret-'));
  });
  afterAll(async () => {
    clearRegisteredSecrets();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts only {env} or {file}, never an inline value', () => {
    expect(secretRefSchema.safeParse({ env: 'SMTP_PASSWORD' }).success).toBe(true);
    expect(secretRefSchema.safeParse({ file: '/run/secrets/x' }).success).toBe(true);
    expect(secretRefSchema.safeParse('hunter2').success).toBe(false);
    expect(secretRefSchema.safeParse({ env: 'not a name' }).success).toBe(false);
    expect(secretRefSchema.safeParse({ env: 'A', file: '/x' }).success).toBe(false);
  });

  it('reads an environment variable and registers it for redaction', async () => {
    process.env.TRESOR_SPEC_SECRET = 'env-canary-7c1f';
    expect(await resolveSecret({ env: 'TRESOR_SPEC_SECRET' }, 'smtp password')).toBe('env-canary-7c1f');
    expect(redactText('login with env-canary-7c1f failed')).not.toContain('env-canary-7c1f');
    delete process.env.TRESOR_SPEC_SECRET;
  });

  it('reads a file without its trailing newline, as bytes too', async () => {
    const file = join(dir, 'hmac');
    await writeFile(file, 'file-canary-93ab\n');
    expect(await resolveSecret({ file }, 'webhook key')).toBe('file-canary-93ab');
    expect((await resolveSecretBytes({ file }, 'ssh key')).toString()).toBe('file-canary-93ab\n');
    expect(redactText('key file-canary-93ab')).not.toContain('file-canary-93ab');
  });

  it('names the variable or file that is missing, as a usage error', async () => {
    await expect(resolveSecret({ env: 'TRESOR_SPEC_UNSET' }, 'slack url')).rejects.toThrow(
      new UsageError('slack url: environment variable TRESOR_SPEC_UNSET is not set or empty'),
    );
    await expect(resolveSecret({ file: join(dir, 'absent') }, 'webhook key')).rejects.toThrow(/webhook key: cannot read secret file .*absent \(ENOENT\)/);
  });
});
