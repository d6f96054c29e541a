// Shared vitest settings: resolve workspace packages to their TypeScript sources so tests
// never depend on a prior build.
export const sharedTestConfig = {
  resolve: { conditions: ['@whittle/source'] },
  ssr: { resolve: { conditions: ['@whittle/source'] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks' as const,
  },
};
