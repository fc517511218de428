import { defineConfig } from 'vitest/config';

// One test run over every project; `npx vitest run libs/crypto` narrows it to one.
export default defineConfig({
  test: {
    include: ['{apps,libs}/*/src/**/*.spec.ts', 'test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: 'test/reports/vitest.json' },
  },
});
