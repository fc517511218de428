import { describe, expect, it } from 'vitest';
import { assertReachable, InfraUnavailableError, need } from '../../support/infra.js';

describe('a missing test server fails loudly', () => {
  it('names the server and test/infra/up when nothing listens', async () => {
    const err = await assertReachable('s3', '127.0.0.1', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraUnavailableError);
    expect((err as Error).message).toMatch(
      /^S3 \(MinIO\) is not available: nothing answers at 127\.0\.0\.1:1 .*test\/infra\/up/,
    );
  });

  it('names the variable when a setting is missing', () => {
    expect(() => need('ldap', 'TRESOR_TEST_NO_SUCH_SETTING')).toThrow(
      /LDAP \(OpenLDAP slapd\) is not available: TRESOR_TEST_NO_SUCH_SETTING .*test\/infra\/up/,
    );
  });
});
