/** Jest runs the TypeScript sources through ts-jest as native ESM (vega, arquero and pglite are ESM-only).
 *  Type checking happens in `npm run lint` (tsc --noEmit); here ts-jest only transpiles (isolatedModules).
 *  Two workers: the tests that run a simulator against the wall clock give the collector a grace of a wall
 *  second (graceMs = 1000 × SPEED), so a loaded machine delays them without changing what they store, and
 *  the slowest file (the collector restart) is split per database so the two halves run side by side. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/setupEnv.ts'],
  testTimeout: 30000,
  maxWorkers: 2,
};
