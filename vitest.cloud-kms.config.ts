import { defineConfig } from 'vitest/config';

// `npm run test:cloud-kms`: contract tests against real Azure Key Vault / Google Cloud KMS, run
// only with credentials (docs/testing.md). Kept out of `npm test`, whose include never matches them.
export default defineConfig({
  test: {
    include: ['test/cloud-kms/**/*.contract.ts'],
    testTimeout: 120_000,
    pool: 'forks',
  },
});
