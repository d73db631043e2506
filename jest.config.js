/**
 * Jest, in two lanes (issue 24):
 * - unit: pure TypeScript, no process started (a guard refuses child_process), the edit loop: `npm run test:unit`;
 * - integration: the files under __tests__/integration/, which run real tools (terraform, PostgreSQL, Redis,
 *   HAProxy, cloud-init, promtool, our CLIs): `npm run test:integration`, after scripts/install-test-tools.sh.
 * swc strips types (tsc checks them in its own step), so tests start fast.
 */
/**
 * V8 optimizes a function with TurboFan once it has run for a while (its interrupt budget, 67584 in Node 20).
 * Jest evaluates every module afresh for each test file, so the same functions of cdktf, the providers and this
 * library were optimized again in each of the ~70 files, on background threads, for code that is dropped when
 * the file ends: a fifth of the unit lane's CPU. With eight times the budget only the really hot code (a
 * property test's loop, a whole App's synth) is optimized; the rest runs in the baseline tiers. jest-worker
 * forks its workers with this process's execArgv; a run in band (one file, --runInBand) is this process.
 */
const TURBOFAN_BUDGET = '--interrupt-budget=540672';
/**
 * A young generation of 64 MiB semi-spaces instead of 16: a test file's synths allocate fast, and each scavenge
 * copied what was still alive. Unit lane, five alternated runs each: 37.8 s of CPU instead of 41.0. Workers only:
 * V8 sizes its heap when it starts.
 */
const YOUNG_GENERATION = '--max-semi-space-size=64';
for (const flag of [TURBOFAN_BUDGET, YOUNG_GENERATION]) if (!process.execArgv.includes(flag)) process.execArgv.push(flag);
require('node:v8').setFlagsFromString(TURBOFAN_BUDGET);

/**
 * The Go programs the tests start are short-lived or live for one test file: the docker CLI, dockerd and the copies
 * of itself it executes for each container (libnetwork-setkey, setup-resolver, set-ipv6: ~50 ms of CPU each, a fifth
 * of it garbage collection of what its package initializers allocate), containerd, terraform, promtool. Without the
 * collector until a program's heap nears 256 MiB, an engine test file took 12% less CPU (release-steps 15.3 -> 13.5 s
 * as its cgroup counts it). The daemons live for one file: in a whole run the largest dockerd reached 176 MiB and all
 * of them together 1.1 GiB (a 1 s sampler, 2026-12-08). Set here, so jest's workers and every process they start
 * inherit it; a value already in the environment is kept.
 */
process.env.GOGC ??= 'off';
process.env.GOMEMLIMIT ??= '256MiB';

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^archiver$': '<rootDir>/__tests__/helpers/archiver-on-use.js' },
};

module.exports = {
  // Jest's default on a 2-core machine is one worker; the unit files are CPU-bound and independent. `npm test` passes
  // --maxWorkers=5 and `npm run test:integration` 4: the real-engine files mostly wait (a swarm converging, a health
  // check's interval). With four workers the three longest held three of them for 40-65 s while the cores were 70%
  // busy (a 1 s sampler, 2026-12-08): 97 s. Five: 90 s, the cores 99% busy; six: 92 s, 11 s more CPU.
  maxWorkers: 2,
  testSequencer: '<rootDir>/__tests__/helpers/sequencer.js',
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/__tests__'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/__tests__/integration/'],
      globalSetup: '<rootDir>/__tests__/helpers/warm-transforms.js',
      setupFiles: ['<rootDir>/__tests__/helpers/setup.ts', '<rootDir>/__tests__/helpers/unit-lane-guard.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      roots: ['<rootDir>/__tests__/integration'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/__tests__/helpers/build-commands.js',
      setupFiles: ['<rootDir>/__tests__/helpers/setup.ts'],
    },
  ],
};
