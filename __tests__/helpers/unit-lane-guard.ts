/**
 * The unit lane runs no process: a test that starts a real tool (terraform, PostgreSQL, a CLI of ours, git)
 * belongs in __tests__/integration/, the lane that `npm run test:integration` runs after installing the tools.
 * Mocked per test file (jest.mock in a setup file), so the integration lane, sharing the workers, is untouched.
 */
function refusingChildProcess(): typeof import('node:child_process') {
  const actual = jest.requireActual<typeof import('node:child_process')>('node:child_process');
  const refuse = (name: string) => (command: unknown) => {
    throw new Error(
      `unit lane: child_process.${name}(${JSON.stringify(command)}) starts a process; ` +
        'move this test file to __tests__/integration/ (the lane that runs real tools)',
    );
  };
  const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
  return { ...actual, ...Object.fromEntries(names.map((name) => [name, refuse(name)])) };
}

jest.mock('node:child_process', refusingChildProcess);
jest.mock('child_process', refusingChildProcess);
