/** Jest runs the TypeScript sources through ts-jest as native ESM (vega, arquero and pglite are ESM-only).
 *  Type checking happens in `npm run lint` (tsc --noEmit); here ts-jest only transpiles (isolatedModules). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/setupEnv.ts'],
  testTimeout: 30000,
};
