/**
 * Runs the README's commands in a fresh clone (issue 17): every line of every ```bash block must
 * be listed below, either run (exit 0 and the output stated) or, when it needs credentials, a
 * host or state this machine does not have, run and checked for its refusal message. Adding a
 * command to the README without adding it here fails the test.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../helpers/synth-out';

type Expectation =
  | { readonly kind: 'runs'; readonly output: RegExp }
  | { readonly kind: 'refuses'; readonly message: RegExp }
  | { readonly kind: 'not run'; readonly why: string };

const COMMANDS: Readonly<Record<string, Expectation>> = {
  'npm ci': { kind: 'not run', why: 'tests run offline: the clone links the checkout\'s node_modules; .ci/run runs npm ci' },
  'npm run synth': { kind: 'runs', output: /^Monthly cost: production EUR \d+\.\d\d, staging EUR \d+\.\d\d \(total EUR \d+\.\d\d; prices of \d{4}-\d\d-\d\d, R2 estimated\)$/m },
  'npm test': { kind: 'not run', why: 'this test is part of it' },
  'npx cdktf deploy production-chat': { kind: 'not run', why: 'needs provider credentials and its upstream stacks; `npm run e2e` runs `cdktf deploy <env>-<product>` as typed against the mock providers (tools/e2e/cdktf-cli.ts)' },
  'npx cdktf diff staging-network': { kind: 'not run', why: 'needs provider credentials; the same cdktf CLI path as the deploy above, run by `npm run e2e`' },
  'npm run diff -- staging-network': { kind: 'refuses', message: /error: these credentials are not set[^\n]*\n {2}staging-network: CLOUDFLARE_API_TOKEN, GITHUB_TOKEN, HCLOUD_TOKEN/ },
  'npm run deploy -- staging-network': { kind: 'refuses', message: /error: these credentials are not set/ },
  "npm run deploy -- 'staging-*'": { kind: 'refuses', message: /error: these credentials are not set[^]*staging-chat: / },
  'npm run deploy -- production-chat': { kind: 'refuses', message: /error: refusing to deploy production-chat: a production stack with local state/ },
  'TFC_ORGANIZATION=acme TFC_BOOTSTRAP=1 npm run deploy -- bootstrap': { kind: 'refuses', message: /error: these credentials are not set[^\n]*\n {2}bootstrap: TFE_TOKEN/ },
  'npm run ops -- status staging': { kind: 'refuses', message: /error: the address of host app-1 \(staging\) is the output "host_app_1_ipv4" of staging-network, which has no local state here; pass --host app-1=<address>/ },
  'npm run ops -- logs production chat/backend --since 10m': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run ops -- tasks production chat': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run ops -- traffic production chat': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run release -- run production chat': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run release -- rollback production chat backend': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run release -- close-window production': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run ops -- task logs production chat migrate': { kind: 'refuses', message: /error: the address of host app-1 \(production\)/ },
  'npm run ops -- versions production chat': { kind: 'runs', output: /^production chat: current tag main-[0-9a-f]{7}/ },
  'npm run release -- record chat main-4f2c9e1': { kind: 'runs', output: /^stack=staging-chat\ntag=main-4f2c9e1\nmessage=release staging chat main-4f2c9e1$/m },
  'npm run release -- promote chat': { kind: 'refuses', message: /error: Invalid configuration[^]*environment "production", product "chat", field "imageTag"[^]*staging never applied staging-chat \(no refs\/applied\/staging-chat[^]*nothing was written/ },
  'npm run ops -- rollback production chat': { kind: 'refuses', message: /error: environment "production", chat: no earlier tag than main-[0-9a-f]{7} in the history of environments\/tags\/production.json/ },
  'npm run ops -- status staging --print --host app-1=203.0.113.10': { kind: 'runs', output: /^docker --host ssh:\/\/deploy@203\.0\.113\.10:22 ps --all .*--filter label=env=staging --format '\{\{json \.\}\}'$/m },
  'npm run graph': { kind: 'runs', output: /^wrote docs\/topology-production\.md\nwrote docs\/topology-staging\.md$/m },
  'npm run plan:comment -- --help': { kind: 'runs', output: /^Usage:\n {2}npm run plan:comment -- /m },
};

/** Every command line in the README's ```bash blocks, without trailing comments, split at `&&`. */
function readmeCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/```bash\n([^]*?)```/g)].map((match) => match[1]);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')
    .flatMap((line) => line.split('&&').map((part) => part.trim()));
}

/** A clone of the repository with the working tree's tracked files (so uncommitted edits count) and the checkout's packages. */
function freshClone(): string {
  const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-clone-'));
  const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' });
  // --shared: the clone reads the checkout's objects in place (alternates) and writes its own; copying them took
  // 2.3 s of system CPU (--no-hardlinks) for a history no command reads differently.
  expect(git(os.tmpdir(), 'clone', '-q', '--shared', PROJECT_ROOT, clone).status).toBe(0);
  for (const file of git(PROJECT_ROOT, 'ls-files', '-z').stdout.split('\0').filter(Boolean)) {
    const source = path.join(PROJECT_ROOT, file);
    if (!fs.existsSync(source)) continue;
    fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    fs.copyFileSync(source, path.join(clone, file));
  }
  // Packages are shared. The bundles of the app and the command lines are copied (a link would see the checkout's
  // rebuilt under the clone's commands): the lane's global setup built them from the same sources, and the clone's
  // first command finds every input's content unchanged by its digest (scripts/bundle-cache.js), as it would find the
  // ones a first `npm run synth` built. A copy older than the sources is rebuilt there.
  fs.mkdirSync(path.join(clone, 'node_modules'));
  for (const entry of fs.readdirSync(path.join(PROJECT_ROOT, 'node_modules'))) {
    if (entry !== '.cache') fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules', entry), path.join(clone, 'node_modules', entry));
  }
  const bundles = path.join('node_modules', '.cache', 'manacore-app', 'commands');
  if (fs.existsSync(path.join(PROJECT_ROOT, bundles))) fs.cpSync(path.join(PROJECT_ROOT, bundles), path.join(clone, bundles), { recursive: true });
  return clone;
}

/** The environment of every command: none of the machine's credentials, state or hosts. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(TF_VAR_|TF_TOKEN_|HCLOUD_|CLOUDFLARE_|GITHUB_TOKEN|TFE_|TFC_|DOCKER_|MANACORE_)/.test(key)));
  return { ...env, npm_config_loglevel: 'silent' };
}

function run(clone: string, command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: clone, env: cleanEnv() });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * The commands run one after the other in one clone: one copy of the tree and one cold build of the commands' bundles (three
 * clones at once took 27 s of CPU instead of 24, and the suite is CPU-bound). The synth comes first, as a new user
 * meets it, and `npm run graph` before `release record`: the diagrams show staging's tags, which record changes.
 */
const ORDER: readonly string[] = [
  'npm run synth', 'npm run ops -- status staging --print --host app-1=203.0.113.10', 'npm run ops -- status staging', 'npm run ops -- logs production chat/backend --since 10m', 'npm run ops -- tasks production chat', 'npm run ops -- task logs production chat migrate', 'npm run ops -- traffic production chat', 'npm run release -- run production chat', 'npm run release -- rollback production chat backend', 'npm run release -- close-window production', 'npm run graph',
  'npm run diff -- staging-network', 'npm run deploy -- staging-network', "npm run deploy -- 'staging-*'", 'npm run deploy -- production-chat', 'TFC_ORGANIZATION=acme TFC_BOOTSTRAP=1 npm run deploy -- bootstrap',
  'npm run ops -- versions production chat', 'npm run ops -- rollback production chat', 'npm run release -- record chat main-4f2c9e1', 'npm run release -- promote chat', 'npm run plan:comment -- --help',
];

describe('README commands, from a fresh clone', () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const clone = freshClone();
  const results = new Map<string, { code: number | null; output: string }>();

  beforeAll(async () => {
    for (const command of ORDER) results.set(command, await run(clone, command));
  }, 180_000);

  afterAll(() => fs.rmSync(clone, { recursive: true, force: true }));

  test('every command in a bash block of the README is listed here, and each one that runs is in the order run', () => {
    expect([...new Set(readmeCommands(readme))].sort()).toEqual(Object.keys(COMMANDS).sort());
    expect([...ORDER].sort()).toEqual(Object.entries(COMMANDS).filter(([, expectation]) => expectation.kind !== 'not run').map(([command]) => command).sort());
  });

  for (const [command, expectation] of Object.entries(COMMANDS)) {
    if (expectation.kind === 'not run') continue;
    test(`${command} ${expectation.kind === 'runs' ? 'runs' : 'refuses with its message'}`, () => {
      const { code, output } = results.get(command)!;
      if (expectation.kind === 'runs') {
        expect({ code, output }).toEqual({ code: 0, output: expect.stringMatching(expectation.output) });
      } else {
        expect({ code, output }).toEqual({ code: 1, output: expect.stringMatching(expectation.message) });
      }
      // Clean output: no cdktf telemetry or version notices, no stack traces.
      expect(output).not.toMatch(/telemetry|newer version|^\s+at .*\(.*:\d+:\d+\)$/m);
    });
  }

  test('the checked-in topology diagrams are what npm run graph writes (it ran above)', () => {
    // Against the working tree the clone was copied from, so uncommitted docs elsewhere do not count.
    const diagrams = fs.readdirSync(path.join(PROJECT_ROOT, 'docs')).filter((name) => /^topology-.*\.md$/.test(name));
    expect(diagrams.length).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(clone, 'docs')).filter((name) => /^topology-.*\.md$/.test(name))).toEqual(diagrams);
    for (const name of diagrams) {
      expect({ name, text: fs.readFileSync(path.join(clone, 'docs', name), 'utf8') }).toEqual({ name, text: fs.readFileSync(path.join(PROJECT_ROOT, 'docs', name), 'utf8') });
    }
  });

  test('the plan JSON recipe ends in a plan:comment command that renders a plan file named after its stack', async () => {
    const recipe = /```sh\n([^]*?)```/.exec(readme.slice(readme.indexOf('A plan JSON for the comment')))![1].trim().split('\n');
    expect(recipe.slice(1, 4).every((line) => line.startsWith('terraform -chdir=cdktf.out/stacks/staging-chat '))).toBe(true);
    // Terraform cannot download providers here: the last step is run on a fixture plan with changes instead.
    fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'plans', 'staging-data.plan.json'), path.join(clone, 'staging-chat.plan.json'));
    const { code } = await run(clone, recipe[recipe.length - 1]);
    expect(code).toBe(0);
    expect(fs.readFileSync(path.join(clone, 'comment.md'), 'utf8')).toMatch(/^<!-- manacore-plan-comment -->\n\n## Terraform plan\n\n\*\*Plan: 3 to add[^]*`staging-chat`/);
  });
});
