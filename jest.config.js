/** Jest: swc strips types (tsc checks them in its own step), so tests start fast. */
module.exports = {
  testEnvironment: 'node',
  // Jest's default on a 2-core machine is one worker; the files are CPU-bound and independent.
  maxWorkers: 2,
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/__tests__/helpers/setup.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
