/**
 * `npm run check:add-product [-- --only-staging] [-- <jest args>]`: the proof that adding a product
 * or a service is one edit (issue 25). In a temporary copy of the working tree it makes the edit
 * docs/adding-a-product.md describes (a product `ledger` with a `web` service using PostgreSQL, in
 * both environments or staging only, and a `cleanup` worker in mana-core-auth), records a tag
 * for the new product with `npm run release -- record`, runs `npm run generate`, and then the
 * whole jest suite (or the files given), unchanged. Exit code: jest's.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from './lib/command-line';
import { OperatorError } from './lib/tools';

const ROOT = path.resolve(__dirname, '..');

/** The new product, as a user would write it into MANACORE_PRODUCTS. */
export function newProduct(name: string): string {
  return `  {
    name: '${name}',
    services: [{ name: 'web', kind: 'web', environment: { NODE_ENV: 'production', PORT: '3000' }, uses: ['postgres'] }],
  },
`;
}

/** The new service of an existing product, as a user would add it to mana-core-auth's services. */
export function newService(name: string): string {
  return `      { name: '${name}', kind: 'worker', command: ['node', 'dist/${name}.js'], uses: ['postgres'] },
`;
}

/** The names the edit uses; a second edit with other names applies on top of the first. */
export interface AddedNames {
  /** @default 'ledger' */
  readonly product?: string;
  /** A worker service added to mana-core-auth. @default 'cleanup' */
  readonly service?: string;
}

function replaceOnce(file: string, pattern: RegExp, replacement: (match: string) => string): void {
  const text = fs.readFileSync(file, 'utf8');
  if (!pattern.test(text)) throw new OperatorError(`${file}: ${pattern} not found; the catalog or environment changed shape, update scripts/check-add-product.ts`);
  fs.writeFileSync(file, text.replace(pattern, replacement));
}

/** Applies the edit of the walk-through to a copy of the project at `root`. */
export function addProductAndService(root: string, environments: readonly string[], names: AddedNames = {}): void {
  const { product = 'ledger', service = 'cleanup' } = names;
  const catalog = path.join(root, 'environments', 'catalog.ts');
  // The last entry of MANACORE_PRODUCTS is followed by the list's closing `];` at the end of the file.
  replaceOnce(catalog, /\n\];\n*$/, () => `\n${newProduct(product)}];\n`);
  // mana-core-auth's service list: from `name: AUTH_PRODUCT` to the first `    ],` after it.
  replaceOnce(catalog, /(name: AUTH_PRODUCT,\n {4}services: \[\n[\s\S]*?\n)( {4}\],)/, (match) => match.replace(/( {4}\],)$/, `${newService(service)}$1`));
  for (const environment of environments) {
    replaceOnce(path.join(root, 'environments', `${environment}.ts`), /const PRODUCTS = \[\n([^\]]*)\];/, (match) => match.replace(/\];$/, `  '${product}',\n];`));
  }
}

function run(root: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  process.stdout.write(`\n$ ${[command, ...args].join(' ')}\n`);
  const result = spawnSync(command, [...args], { cwd: root, env, stdio: 'inherit' });
  return result.status ?? 1;
}

function main(argv: readonly string[]): number {
  const onlyStaging = argv.includes('--only-staging');
  const jestArgs = argv.filter((arg) => arg !== '--only-staging');
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'add-product-'));
  // The working tree as it is (tracked and new files, not ignored ones), plus its node_modules by link.
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const file of files) {
    if (!fs.existsSync(path.join(ROOT, file))) continue;
    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(copy, file));
  }
  // A repository of its own (tests read `git ls-files`), committed before the edit so `git status` shows it.
  for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=check', '-c', 'user.email=check@example.com', 'commit', '-qm', 'before']]) spawnSync('git', args, { cwd: copy });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  // .gitignore's `node_modules/` matches directories only, not this link.
  fs.appendFileSync(path.join(copy, '.git', 'info', 'exclude'), 'node_modules\n');
  addProductAndService(copy, onlyStaging ? ['staging'] : ['staging', 'production']);
  process.stdout.write(`edited ${copy}: environments/catalog.ts, ${onlyStaging ? 'environments/staging.ts' : 'environments/staging.ts, environments/production.ts'}\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (run(copy, npm, ['run', '-s', 'release', '--', 'record', 'ledger', 'main-4f2c9e1']) !== 0) return 1;
  if (run(copy, npm, ['run', '-s', 'generate']) !== 0) return 1;
  process.stdout.write(`\n$ git status --short (in ${copy})\n${spawnSync('git', ['status', '--short'], { cwd: copy, encoding: 'utf8' }).stdout}`);
  return run(copy, process.execPath, [path.join(copy, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.', '--noEmit']) !== 0
    ? 1
    : run(copy, process.execPath, [path.join(copy, 'node_modules', 'jest', 'bin', 'jest.js'), ...jestArgs]);
}

if (require.main === module) runCommand(() => main(process.argv.slice(2)));
