// dependency-cruiser rules for scripts/check-structure.mjs (`pnpm lint`): no import circles inside
// a package's src/ (runtime imports: `import type` cycles are erased by the compiler), and no
// package-level back-arrows (each package imports only the packages docs/design.md allows it).
import { ALLOWED } from './layers.mjs';

const packages = Object.keys(ALLOWED);

/**
 * Known circles, each with the reason it stays. None today: the check fails on any circle. An
 * entry here allows a circle only when all its modules are in one entry's `modules`.
 */
export const KNOWN_CIRCLES = [];

export const forbidden = [
  {
    name: 'no-circular',
    comment: 'an import circle inside a package: modules evaluate in an order that depends on which one is imported first',
    severity: 'error',
    from: { path: '^packages/[^/]+/src/' },
    to: { circular: true },
  },
  ...packages.map((pkg) => ({
    name: `layer-${pkg}`,
    comment: ALLOWED[pkg].length ? `${pkg} may import only ${ALLOWED[pkg].join(', ')}` : `${pkg} may import no other workspace package`,
    severity: 'error',
    from: { path: `^packages/${pkg}/src/` },
    to: { path: '^(packages|apps)/', pathNot: `^packages/(${[pkg, ...ALLOWED[pkg]].join('|')})/` },
  })),
];

export const options = {
  doNotFollow: { path: 'node_modules' },
  exclude: { path: '(^|/)(dist|test|node_modules)/|\\.test\\.ts$' },
  // type-only imports are erased: they cannot form a runtime circle or load another package
  tsPreCompilationDeps: false,
  // workspace packages resolve to their TypeScript sources, as in the tests
  enhancedResolveOptions: { conditionNames: ['@whittle/source', 'import', 'default'], extensions: ['.ts', '.js', '.mjs'], exportsFields: ['exports'] },
};
