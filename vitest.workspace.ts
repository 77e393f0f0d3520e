import { defineProject } from 'vitest/config';

/** Every test project of the monorepo; vitest.config.ts hands this list to `test.projects`. */
export default [
  defineProject({
    test: { name: 'core', include: ['packages/core/src/**/*.test.ts'], environment: 'node' },
  }),
  defineProject({
    test: { name: 'server', include: ['packages/server/src/**/*.test.ts'], environment: 'node', testTimeout: 20_000, hookTimeout: 30_000 },
  }),
  defineProject({
    test: { name: 'sdk', include: ['packages/sdk/src/**/*.test.ts'], environment: 'node', testTimeout: 20_000, hookTimeout: 30_000 },
  }),
  defineProject({
    test: { name: 'cli', include: ['apps/server/src/**/*.test.ts'], environment: 'node', testTimeout: 30_000, hookTimeout: 30_000 },
  }),
  defineProject({
    test: { name: 'web', include: ['apps/web/src/**/*.test.ts'], environment: 'node' },
  }),
  defineProject({
    test: { name: 'e2e', include: ['tests/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 120_000 },
  }),
];
