import { defineConfig } from 'vitest/config';

// One config for the whole suite: tests live beside the code as *.test.ts.
export default defineConfig({
  // graphql ships CJS (main) and ESM ("module") builds without an exports map: Node loads the CJS
  // one for graphql-ws and graphql-http, Vite would pick the ESM one for our files, and a schema
  // from one is refused by the other ("from another module or realm"). Use the one Node loads.
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
