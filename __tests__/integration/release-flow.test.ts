/**
 * Issue 19: image tags as data, the release, promotion and rollback decisions, and the refusal of
 * placeholder tags in production. The workflows that run these commands are checked in
 * pipeline-workflows.test.ts and release-workflows.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manacore } from '../../environments';
import { MANACORE_PRODUCTS } from '../../environments/catalog';
import { production } from '../../environments/production';
import { staging } from '../../environments/staging';
import { deploymentsFromTags, NEVER_RELEASED_TAG } from '../../environments/tags';
import productionTags from '../../environments/tags/production.json';
import stagingTags from '../../environments/tags/staging.json';
import type { SystemSpec } from '../../index';
import { main as opsMain, type OpsIo } from '../../scripts/ops/cli';
import { gitRunner, isPlaceholderTag, parseTagsFile, serializeTagsFile, withTag, type TagsContext, type TagsFile } from '../../scripts/ops/tags-file';
import { main as releaseMain, type ReleaseIo } from '../../scripts/release/cli';
import { parseTarget, promote, recordRelease } from '../../scripts/release/release';
import { SynthesizedSystem } from '../helpers/synth';

const stagingContext: TagsContext = { environment: 'staging', production: false, products: manacore.products };
const productionContext: TagsContext = { environment: 'production', production: true, products: manacore.products };
const products = (spec: typeof staging) => spec.products.map((deployment) => deployment.product);

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('tags as data: environments read environments/tags/<env>.json', () => {
  it('every product an environment lists gets its tag from the file, in the list order; one without a tag runs the never-released placeholder', () => {
    for (const [spec, file] of [[staging, stagingTags], [production, productionTags]] as const) {
      expect(products(spec).length).toBeGreaterThan(0);
      const recorded = file.products as Record<string, { imageTag: string } | undefined>;
      for (const deployment of spec.products) expect(deployment.imageTag).toBe(recorded[deployment.product]?.imageTag ?? NEVER_RELEASED_TAG);
      expect(Object.keys(file.products).filter((product) => !products(spec).includes(product))).toEqual([]);
    }
    expect(deploymentsFromTags('staging', ['news', 'chat'], { environment: 'staging', products: { chat: { imageTag: 'main-4f2c9e1' } } }, MANACORE_PRODUCTS)).toEqual([
      { product: 'news', imageTag: NEVER_RELEASED_TAG },
      { product: 'chat', imageTag: 'main-4f2c9e1' },
    ]);
    expect(isPlaceholderTag(NEVER_RELEASED_TAG)).toBe(true);
  });

  it('per-service tags pass through; the file is the only source', () => {
    const file = { environment: 'staging', products: { chat: { imageTag: 'main-4f2c9e1', imageTags: { backend: 'main-0a1b2c3' } }, news: { imageTag: 'main-1111111' } } };
    expect(deploymentsFromTags('staging', ['news', 'chat'], file, MANACORE_PRODUCTS)).toEqual([
      { product: 'news', imageTag: 'main-1111111' },
      { product: 'chat', imageTag: 'main-4f2c9e1', imageTags: { backend: 'main-0a1b2c3' } },
    ]);
  });

  it('a listed product with a malformed entry, a tag for a product the environment does not run, an unknown service: one error naming each', () => {
    const file = { environment: 'production', products: { chat: { imageTag: 'main-4f2c9e1', imageTags: { worker: 'main-0a1b2c3' } }, bauntown: { imageTag: 'main-2222222' }, news: {} } };
    const message = errorOf(() => deploymentsFromTags('production', ['chat', 'news'], file, MANACORE_PRODUCTS));
    expect(message).toContain('environment "production", product "bauntown", field "environments/tags/production.json: products": got "bauntown"; allowed: chat, news (the environment does not run this product: add it to its PRODUCTS list first)');
    expect(message).toContain('environment "production", product "news", field "environments/tags/production.json: products.news.imageTag": got undefined');
    expect(message).toContain('product "chat", field "environments/tags/production.json: products.chat.imageTags": got "worker"; allowed: backend, web, landing, mobile');
    expect(errorOf(() => deploymentsFromTags('staging', ['chat'], { environment: 'production', products: { chat: { imageTag: 'main-4f2c9e1' } } }, MANACORE_PRODUCTS))).toContain(
      'field "environments/tags/staging.json: environment": got "production"; allowed: staging',
    );
  });

  it('placeholders are recognised as such, and only they', () => {
    expect(['main-0000000', 'main-0000000000000000000000000000000000000000'].map(isPlaceholderTag)).toEqual([true, true]);
    expect(['main-0000001', 'main-000000', 'v0.0.0', 'latest', 'main-a000000'].map(isPlaceholderTag)).toEqual([false, false, false, false, false]);
  });
});

describe('a release touches only its product\'s stack', () => {
  it('recording chat\'s tag in staging changes staging-chat and no other stack', () => {
    const released = recordRelease(stagingTags as TagsFile, stagingContext, parseTarget(stagingContext, 'chat'), 'main-4f2c9e1');
    const system: SystemSpec = { ...manacore, environments: [{ ...staging, products: deploymentsFromTags('staging', products(staging), released, MANACORE_PRODUCTS) }] };
    const before = new SynthesizedSystem({ ...manacore, environments: [staging] });
    const after = new SynthesizedSystem(system);
    expect(after.stackNames).toEqual(before.stackNames);
    const changed = before.stackNames.filter((name) => JSON.stringify(before.synth(name)) !== JSON.stringify(after.synth(name)));
    expect(changed).toEqual(['staging-chat']);
    expect(JSON.stringify(after.synth('staging-chat'))).toContain('ghcr.io/manacore/chat-backend:main-4f2c9e1');
  });
});

describe('release, promotion and their bad input', () => {
  const stagingFile = (chat: TagsFile['products'][string]): TagsFile => ({ environment: 'staging', products: { ...(stagingTags as TagsFile).products, chat } });

  it('record: unknown product or service, a placeholder, a malformed tag are refused with environment, field, value, allowed', () => {
    expect(errorOf(() => parseTarget(stagingContext, 'chatt'))).toMatch(/environment "staging", field "product": got "chatt"; allowed: mana-core-auth\[\/<service>\], chat\[\/<service>\], /);
    expect(errorOf(() => parseTarget(stagingContext, 'chat/worker'))).toContain('environment "staging", product "chat", field "service": got "worker"; allowed: backend, web, landing, mobile');
    expect(errorOf(() => recordRelease(stagingTags as TagsFile, stagingContext, { product: 'chat' }, 'main-0000000'))).toContain('field "imageTag": got "main-0000000"');
    expect(errorOf(() => recordRelease(stagingTags as TagsFile, stagingContext, { product: 'chat' }, 'bad tag!'))).toContain('field "imageTag": got "bad tag!"');
    const withoutNews: TagsFile = { environment: 'staging', products: { chat: { imageTag: 'main-1111111' } } };
    expect(errorOf(() => recordRelease(withoutNews, stagingContext, { product: 'news' }, 'main-4f2c9e1'))).toContain('product "news", field "product": got "news"; allowed: chat (the environment does not run it');
    // A product the environment lists but never released is not in the file yet: its first release writes it.
    expect(recordRelease(withoutNews, { ...stagingContext, runs: ['chat', 'news'] }, { product: 'news' }, 'main-4f2c9e1').products.news).toEqual({ imageTag: 'main-4f2c9e1' });
    expect(errorOf(() => recordRelease(withoutNews, { ...stagingContext, runs: ['chat', 'news'] }, { product: 'picture' }, 'main-4f2c9e1'))).toContain('got "picture"; allowed: chat, news');
    expect(recordRelease(stagingTags as TagsFile, stagingContext, { product: 'chat', service: 'web' }, 'main-4f2c9e1').products.chat).toEqual({ imageTag: 'main-0000000', imageTags: { web: 'main-4f2c9e1' } });
  });

  it('promote: exactly what staging applied, product or service level, per-service overrides included', () => {
    const applied = { commit: 'a'.repeat(40), stagingTagsText: serializeTagsFile(stagingFile({ imageTag: 'main-4f2c9e1', imageTags: { web: 'main-0a1b2c3' } })) };
    const whole = promote(productionTags as TagsFile, productionContext, stagingContext, { product: 'chat' }, applied);
    expect(whole.file.products.chat).toEqual({ imageTag: 'main-4f2c9e1', imageTags: { web: 'main-0a1b2c3' } });
    expect(whole.file.products.news).toEqual({ imageTag: 'main-0000000' });
    const web = promote(productionTags as TagsFile, productionContext, stagingContext, { product: 'chat', service: 'web' }, applied, 'main-0a1b2c3');
    expect([web.tag, web.file.products.chat]).toEqual(['main-0a1b2c3', { imageTag: 'main-0000000', imageTags: { web: 'main-0a1b2c3' } }]);
  });

  it('promote refuses a tag staging never ran, a stack staging never applied, a placeholder and a mutable tag', () => {
    const ran = (chat: TagsFile['products'][string]) => ({ commit: 'b'.repeat(40), stagingTagsText: serializeTagsFile(stagingFile(chat)) });
    const attempt = (applied: Parameters<typeof promote>[4], expected?: string) => () => promote(productionTags as TagsFile, productionContext, stagingContext, { product: 'chat' }, applied, expected);
    expect(errorOf(attempt(ran({ imageTag: 'main-4f2c9e1' }), 'main-9999999'))).toContain(
      'environment "production", product "chat", field "imageTag": got "main-9999999"; allowed: main-4f2c9e1 (staging never ran main-9999999 as its last applied staging-chat',
    );
    // Without --tag the message names the missing tag, never the product as if it were one.
    expect(errorOf(attempt({}))).toContain('field "imageTag": got null; allowed: a tag staging applied (staging never applied staging-chat');
    expect(errorOf(attempt({}))).toContain('no --tag was given for chat');
    expect(errorOf(attempt(ran({ imageTag: 'main-0000000' })))).toContain('got "main-0000000"; allowed: a released tag');
    expect(errorOf(attempt(ran({ imageTag: 'latest' })))).toContain('field "imageTag": got "latest"; allowed: an immutable tag');
  });

  it('no command writes a placeholder into production: rollback to one is refused too', () => {
    const released: TagsFile = { environment: 'production', products: { ...(productionTags as TagsFile).products, chat: { imageTag: 'main-4f2c9e1' } } };
    expect(errorOf(() => withTag(released, productionContext, 'chat', undefined, 'main-0000000'))).toContain('environment "production", product "chat", field "imageTag": got "main-0000000"; allowed: a released tag');
    // Staging takes it (it is the committed state of every product there).
    expect(withTag({ ...released, environment: 'staging' }, stagingContext, 'chat', undefined, 'main-0000000').products.chat).toEqual({ imageTag: 'main-0000000' });
  });
});

/** A git repository with both tags files, and optionally refs/applied/staging-chat as deploy-stage.yml writes it. */
function flowRepo(stagingChat: string): { root: string; git: (...args: string[]) => string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'release-repo-'));
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
    if (result.status !== 0) throw new Error(result.stderr);
    return result.stdout;
  };
  git('init', '-q');
  fs.mkdirSync(path.join(root, 'environments', 'tags'), { recursive: true });
  fs.writeFileSync(path.join(root, 'environments', 'tags', 'production.json'), serializeTagsFile(productionTags as TagsFile));
  fs.writeFileSync(path.join(root, 'environments', 'tags', 'staging.json'), serializeTagsFile({ environment: 'staging', products: { ...(stagingTags as TagsFile).products, chat: { imageTag: stagingChat } } }));
  git('add', '.');
  git('commit', '-q', '-m', 'tags');
  return { root, git };
}

function releaseIo(root: string): ReleaseIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), root, system: manacore, git: gitRunner(root) };
}

describe('npm run release (the commands the workflows run)', () => {
  it('record writes staging\'s file and prints the one stack to apply; bad input writes nothing', () => {
    const { root } = flowRepo('main-0000000');
    const file = path.join(root, 'environments', 'tags', 'staging.json');
    const before = fs.readFileSync(file, 'utf8');
    const unknown = releaseIo(root);
    expect(releaseMain(['record', 'chat/worker', 'main-4f2c9e1'], unknown)).toBe(1);
    expect(unknown.stderr.join('')).toContain('product "chat", field "service": got "worker"');
    expect(unknown.stderr.join('')).toContain('nothing was written');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const ok = releaseIo(root);
    expect(releaseMain(['record', 'chat', 'main-4f2c9e1'], ok)).toBe(0);
    expect(ok.stdout.join('')).toBe(
      'stack=staging-chat\ntag=main-4f2c9e1\nmessage=release staging chat main-4f2c9e1\n' +
        'purge=[{"hosts":["staging-app-chat.manacore.app","staging-chat.manacore.app"]}]\n' +
        'purge_summary=purge: by hostname on the pro plan: staging-app-chat.manacore.app, staging-chat.manacore.app\n',
    );
    const written = parseTagsFile(fs.readFileSync(file, 'utf8'), stagingContext);
    expect(written.products.chat).toEqual({ imageTag: 'main-4f2c9e1' });
    expect(fs.readFileSync(file, 'utf8').split('\n').filter((line, i) => line !== before.split('\n')[i])).toEqual(['      "imageTag": "main-4f2c9e1"']);
  });

  it('promote reads refs/applied/staging-<product> and the staging file at its commit; without the ref, nothing is written', () => {
    const { root, git } = flowRepo('main-4f2c9e1');
    const production = path.join(root, 'environments', 'tags', 'production.json');
    const before = fs.readFileSync(production, 'utf8');
    const never = releaseIo(root);
    expect(releaseMain(['promote', 'chat'], never)).toBe(1);
    expect(never.stderr.join('')).toContain('staging never applied staging-chat (no refs/applied/staging-chat');
    expect(fs.readFileSync(production, 'utf8')).toBe(before);

    // The record job's annotated tag: message = the applied record, pointing at the applied commit.
    const applied = git('rev-parse', 'HEAD').trim();
    git('tag', '-a', 'applied-staging-chat', '-m', JSON.stringify({ stack: 'staging-chat', commit: applied }), applied);
    git('update-ref', 'refs/applied/staging-chat', git('rev-parse', 'refs/tags/applied-staging-chat').trim());
    // Staging moved on after the apply: promotion still takes what was applied, not the newest file.
    const stagingFile = path.join(root, 'environments', 'tags', 'staging.json');
    fs.writeFileSync(stagingFile, fs.readFileSync(stagingFile, 'utf8').replace('main-4f2c9e1', 'main-5555555'));
    git('commit', '-q', '-am', 'release staging chat main-5555555 (not applied yet)');

    const wrongTag = releaseIo(root);
    expect(releaseMain(['promote', 'chat', '--tag', 'main-5555555'], wrongTag)).toBe(1);
    expect(wrongTag.stderr.join('')).toContain('got "main-5555555"; allowed: main-4f2c9e1 (staging never ran main-5555555 as its last applied staging-chat');
    expect(fs.readFileSync(production, 'utf8')).toBe(before);

    const ok = releaseIo(root);
    expect(releaseMain(['promote', 'chat'], ok)).toBe(0);
    expect(ok.stdout.join('')).toBe(
      `stack=production-chat\ntag=main-4f2c9e1\nmessage=promote production chat main-4f2c9e1 (staging applied it at ${applied.slice(0, 10)})\n` +
        'purge=[{"hosts":["app-chat.manacore.app","chat.manacore.app"]}]\npurge_summary=purge: by hostname on the pro plan: app-chat.manacore.app, chat.manacore.app\n',
    );
    expect(parseTagsFile(fs.readFileSync(production, 'utf8'), productionContext).products.chat).toEqual({ imageTag: 'main-4f2c9e1' });
  });

  it('rollback with no earlier tag is a clear error and writes nothing', () => {
    const { root } = flowRepo('main-4f2c9e1');
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: OpsIo = { out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, root, outdir: root, system: manacore, run: () => ({ code: 0, stdout: '' }), git: gitRunner(root) };
    const file = path.join(root, 'environments', 'tags', 'staging.json');
    const before = fs.readFileSync(file, 'utf8');
    expect(opsMain(['rollback', 'staging', 'chat'], io)).toBe(1);
    expect(stderr.join('')).toContain('environment "staging", chat: no earlier tag than main-4f2c9e1 in the history of environments/tags/staging.json');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });
});
