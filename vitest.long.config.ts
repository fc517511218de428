import { defineConfig } from 'vitest/config';

// `npm run test:long`: the long reliability variants (issue #11): a 10-minute load run and repeated
// service kills. Kept out of `npm test`, whose include never matches *.long.ts; docs/reliability.md
// records their figures. One file at a time: each starts a whole cluster.
export default defineConfig({
  test: {
    include: ['test/reliability/long/**/*.long.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
