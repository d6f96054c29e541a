import { defineConfig } from 'vitest/config';

// One run over every package and app that has a vitest config (each resolves workspace
// packages to their TypeScript sources through the `@whittle/source` condition).
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'],
    passWithNoTests: true,
    // vitest's default is one worker less than the cores: on CI's 2 cores that is one file at a
    // time. Two files at once keeps the whole suite inside its time budget.
    maxWorkers: 2,
  },
});
