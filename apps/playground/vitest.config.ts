import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// The e2e suite builds the app once and drives two chromium instances one after the other:
// run test files one at a time so two builds never write dist/ concurrently (2 cores).
export default defineConfig({
  ...sharedTestConfig,
  test: { ...sharedTestConfig.test, fileParallelism: false, testTimeout: 300_000, hookTimeout: 300_000 },
});
