import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// The e2e suite builds the app once (the only file that writes dist/) and drives two chromium
// instances one after the other; it runs beside the other projects' files like any test file.
export default defineConfig({
  ...sharedTestConfig,
  test: { ...sharedTestConfig.test, testTimeout: 300_000, hookTimeout: 300_000 },
});
