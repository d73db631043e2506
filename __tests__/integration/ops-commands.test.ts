import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manacore } from '../../environments';
import { main, type OpsIo } from '../../scripts/ops/cli';
import { dockerHosts, logsCommand, parseStatus, statusCommand } from '../../scripts/ops/docker-access';
import { gitRunner, parseTagsFile, previousTag, serializeTagsFile, tagHistory, withTag, type TagsFile } from '../../scripts/ops/tags-file';
import { readSynthesizedApp } from '../../scripts/lib/synthesized';
import { synthToTemp } from '../helpers/synth-out';

const outdir = synthToTemp();
const app = readSynthesizedApp(outdir);
const staging = { environment: 'staging', production: false, products: manacore.products };
const production = { environment: 'production', production: true, products: manacore.products };

/** A throwaway git repository holding environments/tags/<env>.json, with one commit per given file content. */
function repoWithHistory(environment: string, versions: readonly TagsFile[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tags-repo-'));
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
    if (result.status !== 0) throw new Error(result.stderr);
  };
  git('init', '-q');
  fs.mkdirSync(path.join(root, 'environments', 'tags'), { recursive: true });
  versions.forEach((version, index) => {
    fs.writeFileSync(path.join(root, 'environments', 'tags', `${environment}.json`), serializeTagsFile(version));
    git('add', '.');
    git('commit', '-q', '-m', `release ${index + 1}`);
  });
  return root;
}

const tags = (environment: string, chat: TagsFile['products'][string]): TagsFile => ({ environment, products: { chat, picture: { imageTag: 'main-1111111' } } });

function io(root: string, overrides: Partial<OpsIo> = {}): OpsIo & { stdout: string[]; stderr: string[]; runs: string[][] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const runs: string[][] = [];
  return {
    stdout,
    stderr,
    runs,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    env: { PATH: process.env.PATH },
    root,
    outdir,
    system: manacore,
    run: (args) => {
      runs.push([...args]);
      return { code: 0, stdout: '' };
    },
    git: gitRunner(root),
    addressLookup: () => '203.0.113.5',
    ...overrides,
  };
}

describe('docker access path', () => {
  test('hosts come from the edge stack docker provider, the address from the network stack output', () => {
    const asked: string[] = [];
    const hosts = dockerHosts(app, 'production', (stack, output) => (asked.push(`${stack}.${output}`), '203.0.113.7'));
    expect(hosts).toEqual([{ name: 'app-1', url: 'ssh://deploy@203.0.113.7:22', tls: undefined }]);
    expect(asked).toEqual(['production-network.host_app_1_ipv4']);
  });

  test('under Terraform Cloud the address reference is a tfe_outputs value, resolved the same way', () => {
    const cloud = readSynthesizedApp(synthToTemp({ TFC_ORGANIZATION: 'acme' }));
    const asked: string[] = [];
    expect(dockerHosts(cloud, 'staging', (stack, output) => (asked.push(`${stack}.${output}`), undefined), new Map([['app-1', '203.0.113.9']]))).toEqual([
      { name: 'app-1', url: 'ssh://deploy@203.0.113.9:22', tls: undefined },
    ]);
    expect(() => dockerHosts(cloud, 'staging', () => undefined)).toThrow('the output "host_app_1_ipv4" of staging-network');
  });

  test('without state or --host the error names the output, the stack and the flag', () => {
    expect(() => dockerHosts(app, 'staging', () => undefined)).toThrow('the address of host app-1 (staging) is the output "host_app_1_ipv4" of staging-network, which has no local state here; pass --host app-1=<address>');
    expect(() => dockerHosts(app, 'qa', () => undefined)).toThrow('no environment "qa" in cdktf.out; environments: production, staging');
  });

  test('status filters on the labels the containers carry; logs validates --tail and --since', () => {
    const host = { name: 'app-1', url: 'ssh://deploy@203.0.113.5:22' };
    expect(statusCommand(host, 'manacore', 'staging')).toEqual(['docker', '--host', 'ssh://deploy@203.0.113.5:22', 'ps', '--all', '--no-trunc', '--filter', 'label=system=manacore', '--filter', 'label=env=staging', '--format', '{{json .}}']);
    expect(logsCommand(host, 'chat-backend-main-1-ab', { since: '1h30m', tail: 50, follow: true })).toEqual(['docker', '--host', 'ssh://deploy@203.0.113.5:22', 'logs', '--timestamps', '--tail', '50', '--since', '1h30m', '--follow', 'chat-backend-main-1-ab']);
    expect(() => logsCommand(host, 'c', { since: 'yesterday' })).toThrow('--since must be a duration (30s, 10m, 2h, 1h30m) or a date');
    expect(() => logsCommand(host, 'c', { tail: -1 })).toThrow('--tail must be a whole number');
    const tls = { ...host, url: 'tcp://203.0.113.5:2376', tls: { caFile: '/c/ca.pem', certFile: '/c/cert.pem', keyFile: '/c/key.pem' } };
    expect(statusCommand(tls, 'manacore', 'staging').slice(0, 10)).toEqual(['docker', '--host', 'tcp://203.0.113.5:2376', '--tlsverify', '--tlscacert', '/c/ca.pem', '--tlscert', '/c/cert.pem', '--tlskey', '/c/key.pem']);
  });

  test('docker ps JSON lines become rows with product, service, tag and health', () => {
    const line = (name: string, labels: string, status: string, state = 'running') => JSON.stringify({ Names: name, Labels: labels, Status: status, State: state, Image: 'x' });
    const rows = parseStatus('app-1', [
      line('chat-web-main-1-aa', 'env=staging,product=chat,service=web,image.tag=main-1234567', 'Up 2 hours (healthy)'),
      line('edge-proxy', 'env=staging,role=edge-proxy,service=edge-proxy', 'Up 3 days'),
      line('chat-backend-main-1-bb', 'product=chat,service=backend,image.tag=main-1234567', 'Exited (1) 5 minutes ago', 'exited'),
      '',
    ].join('\n'));
    expect(rows.map((row) => [row.product, row.service, row.tag, row.state, row.health])).toEqual([
      ['-', 'edge-proxy', 'x', 'running', 'none'],
      ['chat', 'backend', 'main-1234567', 'exited', 'none'],
      ['chat', 'web', 'main-1234567', 'running', 'healthy'],
    ]);
  });

  test('npm run ops -- status --print shows the command line; without --print it runs docker and prints the table', () => {
    const printed = io('/nonexistent');
    expect(main(['status', 'staging', '--print'], printed)).toBe(0);
    expect(printed.stdout.join('')).toBe("docker --host ssh://deploy@203.0.113.5:22 ps --all --no-trunc --filter label=system=manacore --filter label=env=staging --format '{{json .}}'\n");

    const fakeDocker = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-bin-'));
    fs.writeFileSync(path.join(fakeDocker, 'docker'), '#!/bin/sh\n', { mode: 0o755 });
    const ran = io('/nonexistent', {
      env: { PATH: fakeDocker },
      run: () => ({ code: 0, stdout: `${JSON.stringify({ Names: 'chat-web-x', Labels: 'product=chat,service=web,image.tag=main-7654321', Status: 'Up 1 minute (health: starting)', State: 'running' })}\n` }),
    });
    expect(main(['status', 'staging'], ran)).toBe(0);
    expect(ran.stdout.join('')).toContain('app-1  chat     web      main-7654321  running  starting  chat-web-x');
    expect(ran.stderr.join('')).toBe('[1/1] app-1: ssh://deploy@203.0.113.5:22\n');
    const noDocker = io('/nonexistent', { env: { PATH: fs.mkdtempSync(path.join(os.tmpdir(), 'nobin-')) } });
    expect(main(['status', 'staging'], noDocker)).toBe(1);
    expect(noDocker.stderr.join('')).toMatch(/^error: "docker" was not found on PATH/);
  });

  test('argument validation names the environment, product and service with the allowed values', () => {
    const check = (argv: string[], code: number, message: string) => {
      const run = io('/nonexistent');
      expect(main(argv, run)).toBe(code);
      expect(run.stderr.join('')).toContain(message);
    };
    check(['status', 'qa'], 1, 'unknown environment "qa"; environments: staging, production');
    check(['logs', 'staging', 'chat'], 2, 'expected <product>/<service>, got "chat"');
    check(['logs', 'staging', 'chat/worker'], 1, 'environment "staging", product "chat": unknown service "worker"; services: backend, web, landing, mobile');
    check(['logs', 'staging', 'chta/web'], 1, 'environment "staging": unknown product "chta"; products: ');
    check(['logs', 'staging', 'chat/web', '--tail', 'ten'], 2, '--tail must be a whole number of lines, got "ten"');
    check(['status', 'staging', '--host', 'app-1'], 2, '--host must be <host name>=<address>');
    check(['deploy', 'staging'], 2, 'unknown verb "deploy"; verbs: status, logs, versions, rollback');
  });
});

describe('tags files', () => {
  test('validation lists every problem: unknown product and service, mutable tag in production, wrong environment', () => {
    const text = JSON.stringify({ environment: 'staging', products: { chta: { imageTag: 'x' }, chat: { imageTag: 'latest', imageTags: { worker: 'main-1234567' } } } });
    expect(() => parseTagsFile(text, production)).toThrow(
      [
        'Invalid configuration (4 problems):',
        '  - environment "production", field "environment": got "staging"; allowed: production',
        `  - environment "production", product "chta", field "products": got "chta"; allowed: ${manacore.products.map((p) => p.name).join(', ')}`,
        '  - environment "production", product "chat", field "imageTag": got "latest"; allowed: an immutable tag: "main-<7 to 40 hex digits>" or "v<major>.<minor>.<patch>" (production never runs a moving tag)',
        '  - environment "production", product "chat", field "imageTags.worker": got "worker"; allowed: backend, web, landing, mobile',
      ].join('\n'),
    );
    expect(parseTagsFile(JSON.stringify({ environment: 'staging', products: { chat: { imageTag: 'latest' } } }), staging).products.chat.imageTag).toBe('latest');
  });

  test('the committed files parse, name only products of their environment, and are written byte for byte as serialized', () => {
    for (const environment of manacore.environments) {
      const file = path.join(__dirname, '..', '..', 'environments', 'tags', `${environment.name}.json`);
      const text = fs.readFileSync(file, 'utf8');
      const parsed = parseTagsFile(text, { environment: environment.name, production: environment.production, products: manacore.products });
      // A listed product may have no tag yet (it runs the never-released placeholder); an unlisted one never has.
      expect(Object.keys(parsed.products).filter((product) => !environment.products.some((p) => p.product === product))).toEqual([]);
      expect(serializeTagsFile(parsed)).toBe(text);
    }
  });

  test('a service tag is an override; a product tag drops the overrides', () => {
    const file = tags('staging', { imageTag: 'main-aaaaaaa' });
    const one = withTag(file, staging, 'chat', 'backend', 'main-bbbbbbb');
    expect(one.products.chat).toEqual({ imageTag: 'main-aaaaaaa', imageTags: { backend: 'main-bbbbbbb' } });
    expect(withTag(one, staging, 'chat', undefined, 'main-ccccccc').products.chat).toEqual({ imageTag: 'main-ccccccc' });
  });

  test('history comes from git, newest first, one entry per tag; the previous tag is the newest different one', () => {
    const root = repoWithHistory('production', [
      tags('production', { imageTag: 'main-aaaaaaa' }),
      tags('production', { imageTag: 'main-bbbbbbb' }),
      tags('production', { imageTag: 'main-bbbbbbb', imageTags: { web: 'main-ddddddd' } }),
      tags('production', { imageTag: 'main-ccccccc' }),
    ]);
    const history = tagHistory(gitRunner(root), 'production', 'chat');
    expect(history.map((release) => [release.tag, release.subject])).toEqual([
      ['main-ccccccc', 'release 4'],
      ['main-bbbbbbb', 'release 2'],
      ['main-aaaaaaa', 'release 1'],
    ]);
    expect(tagHistory(gitRunner(root), 'production', 'chat', 'web').map((release) => release.tag)).toEqual(['main-ccccccc', 'main-ddddddd', 'main-bbbbbbb', 'main-aaaaaaa']);
    expect(previousTag(history, 'main-ccccccc')?.tag).toBe('main-bbbbbbb');
    expect(previousTag(history, 'main-aaaaaaa')).toBeUndefined();
  });

  test('rollback without a tag writes the previous one into the tags file and says what to do next; versions lists the history', () => {
    const root = repoWithHistory('production', [tags('production', { imageTag: 'main-aaaaaaa' }), tags('production', { imageTag: 'main-bbbbbbb' })]);
    const rollback = io(root);
    expect(main(['rollback', 'production', 'chat'], rollback)).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'environments', 'tags', 'production.json'), 'utf8')).products.chat).toEqual({ imageTag: 'main-aaaaaaa' });
    expect(rollback.stdout.join('')).toContain('production chat: main-bbbbbbb -> main-aaaaaaa (written to environments/tags/production.json)');
    expect(rollback.stdout.join('')).toContain('npm run deploy -- production-chat');
    expect(rollback.runs).toEqual([]);

    const versions = io(root);
    expect(main(['versions', 'production', 'chat'], versions)).toBe(0);
    const lines = versions.stdout.join('').split('\n');
    expect(lines[0]).toBe('production chat: current tag main-aaaaaaa');
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT.*main-bbbbbbb .*release 2$/);
    expect(lines[2]).toMatch(/main-aaaaaaa .*release 1$/);

    const first = repoWithHistory('production', [tags('production', { imageTag: 'main-aaaaaaa' })]);
    const none = io(first);
    expect(main(['rollback', 'production', 'chat/web'], none)).toBe(1);
    expect(none.stderr.join('')).toBe('error: environment "production", chat/web: no earlier tag than main-aaaaaaa in the history of environments/tags/production.json; name the tag to roll back to\n');
    const mutable = io(first);
    expect(main(['rollback', 'production', 'chat', 'latest'], mutable)).toBe(1);
    expect(mutable.stderr.join('')).toContain('field "imageTag": got "latest"; allowed: an immutable tag');
    expect(JSON.parse(fs.readFileSync(path.join(first, 'environments', 'tags', 'production.json'), 'utf8')).products.chat.imageTag).toBe('main-aaaaaaa');
  });
});
