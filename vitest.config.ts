import { defineConfig } from 'vitest/config';

// One config for the whole suite: tests live beside the code as *.test.ts.
export default defineConfig({
  // graphql ships CommonJS (main) and ESM (module) builds and refuses a schema built by the other.
  // graphql-ws and graphql-http load it through Node (CommonJS), so the tests' own imports must
  // get that same build, as they do when raceday runs under Node.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.git/**', 'loadtests/k6/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/out/vitest.json' }]] : ['default'],
  },
});
