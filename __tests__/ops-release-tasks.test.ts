/** `ops tasks` and `ops task`: reading task runs from `docker inspect`, and the dry run's command lines. */
import { dryRunCommands, formatTaskRuns, lastRuns, parseTaskRuns, taskContainersCommand, taskTemplate, withImageTag } from '../scripts/ops/release-tasks';

const host = { name: 'app-1', url: 'ssh://deploy@203.0.113.5:22' };

/** What `docker container inspect` says of a task container, reduced to the fields read. */
function inspected(name: string, labels: Record<string, string>, state: { Status: string; ExitCode: number; StartedAt: string; FinishedAt: string }) {
  return {
    Name: `/${name}`,
    State: state,
    Config: { Labels: labels, User: '1001', Env: ['NODE_ENV=production', 'DATABASE_URL=postgresql://chat:s3cret@postgres:5432/chat'] },
    HostConfig: { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=100m' }, Memory: 536870912, NanoCpus: 1000000000 },
    NetworkSettings: { Networks: { 'manacore-data': {}, 'manacore-backend': {}, 'manacore-chat': {} } },
  };
}
const labels = (task: string, tag: string) => ({ system: 'manacore', env: 'staging', product: 'chat', service: 'backend', task, 'image.tag': tag, host: 'app-1' });
const NEVER = '0001-01-01T00:00:00Z';

const answer = JSON.stringify([
  inspected('chat-backend-migrate-main-1111111-aa', labels('migrate', 'main-1111111'), { Status: 'exited', ExitCode: 1, StartedAt: '2026-12-01T10:00:00.123Z', FinishedAt: '2026-12-01T10:00:05.5Z' }),
  inspected('chat-backend-migrate-main-2222222-bb', labels('migrate', 'main-2222222'), { Status: 'exited', ExitCode: 0, StartedAt: '2026-12-02T10:00:00.1Z', FinishedAt: '2026-12-02T10:00:09.9Z' }),
  inspected('chat-pre-migration-backup-main-2222222-cc', { ...labels('pre-migration-backup', 'main-2222222'), service: '' }, { Status: 'running', ExitCode: 0, StartedAt: '2026-12-02T09:59:00Z', FinishedAt: NEVER }),
  inspected('chat-backend', { system: 'manacore', product: 'chat' }, { Status: 'running', ExitCode: 0, StartedAt: '2026-12-02T10:01:00Z', FinishedAt: NEVER }),
]);

describe('task runs', () => {
  it('lists the task containers of an environment by their labels, one product when asked', () => {
    expect(taskContainersCommand(host, 'manacore', 'staging', 'chat')).toEqual([
      'docker', '--host', 'ssh://deploy@203.0.113.5:22', 'ps', '--all', '--quiet', '--no-trunc',
      '--filter', 'label=system=manacore', '--filter', 'label=env=staging', '--filter', 'label=task', '--filter', 'label=product=chat',
    ]);
  });

  it('reads tag, exit code and times from inspect, skipping containers that are no task', () => {
    const runs = parseTaskRuns('app-1', answer);
    expect(runs.map((run) => run.container)).toEqual(['chat-backend-migrate-main-1111111-aa', 'chat-backend-migrate-main-2222222-bb', 'chat-pre-migration-backup-main-2222222-cc']);
    expect(runs[0]).toEqual({
      host: 'app-1', container: 'chat-backend-migrate-main-1111111-aa', product: 'chat', service: 'backend', task: 'migrate', tag: 'main-1111111',
      state: 'exited', exitCode: 1, startedAt: '2026-12-01T10:00:00Z', finishedAt: '2026-12-01T10:00:05Z',
    });
    // still running: no exit code, no finish time
    expect(runs[2]).toMatchObject({ state: 'running', exitCode: undefined, finishedAt: undefined });
  });

  it('keeps the newest run of each task and shows it as a table', () => {
    const last = lastRuns(parseTaskRuns('app-1', answer));
    expect(last.map((run) => `${run.service}/${run.task}@${run.tag}`)).toEqual(['/pre-migration-backup@main-2222222', 'backend/migrate@main-2222222']);
    expect(formatTaskRuns(last).split('\n')).toEqual([
      'HOST   PRODUCT  SERVICE  TASK                  TAG           EXIT     FINISHED              CONTAINER',
      'app-1  chat              pre-migration-backup  main-2222222  running  -                     chat-pre-migration-backup-main-2222222-cc',
      'app-1  chat     backend  migrate               main-2222222  0        2026-12-02T10:00:09Z  chat-backend-migrate-main-2222222-bb',
    ]);
  });
});

describe('a dry run', () => {
  const template = taskTemplate(JSON.stringify([inspected('chat-backend-migrate-main-2222222-bb', labels('migrate', 'main-2222222'), { Status: 'exited', ExitCode: 0, StartedAt: '2026-12-02T10:00:00Z', FinishedAt: '2026-12-02T10:00:09Z' })]));
  const commands = dryRunCommands(host, template, { image: 'ghcr.io/acme/chat-backend:main-3333333', command: ['npx', 'prisma', 'migrate', 'status'], timeoutSeconds: 600, name: 'chat-backend-migrate-dry-run-x' });

  it("copies the last run's hardening, limits and networks, and runs the dry-run command under the task's time limit", () => {
    const [create, connectFirst, connectSecond, start, remove] = commands;
    expect(create).toEqual([
      'docker', '--host', 'ssh://deploy@203.0.113.5:22', 'container', 'create', '--name', 'chat-backend-migrate-dry-run-x',
      '--network', 'manacore-backend',
      '--user', '1001', '--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=100m', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true',
      '--memory', '536870912', '--memory-swap', '536870912', '--cpus', '1',
      '--label', 'system=manacore', '--label', 'env=staging', '--label', 'product=chat', '--label', 'service=backend', '--label', 'host=app-1', '--label', 'dry-run=migrate',
      '--env', 'NODE_ENV', '--env', 'DATABASE_URL',
      '--entrypoint', 'timeout', 'ghcr.io/acme/chat-backend:main-3333333', '-s', 'TERM', '-k', '10', '600', 'npx', 'prisma', 'migrate', 'status',
    ]);
    expect(connectFirst!.slice(3)).toEqual(['network', 'connect', 'manacore-chat', 'chat-backend-migrate-dry-run-x']);
    expect(connectSecond!.slice(3)).toEqual(['network', 'connect', 'manacore-data', 'chat-backend-migrate-dry-run-x']);
    expect(start!.slice(3)).toEqual(['container', 'start', '--attach', 'chat-backend-migrate-dry-run-x']);
    expect(remove!.slice(3)).toEqual(['container', 'rm', '--force', 'chat-backend-migrate-dry-run-x']);
  });

  it('names the variables only: their values go to the docker CLI through its environment', () => {
    expect(JSON.stringify(commands)).not.toContain('s3cret');
    expect(template.values.DATABASE_URL).toBe('postgresql://chat:s3cret@postgres:5432/chat');
  });

  it('tries another tag of the same repository', () => {
    expect(withImageTag('ghcr.io/acme/chat-backend:main-1111111', 'main-2222222')).toBe('ghcr.io/acme/chat-backend:main-2222222');
    expect(withImageTag('registry.example.com:5000/chat@sha256:abc', 'v1.2.3')).toBe('registry.example.com:5000/chat:v1.2.3');
    expect(withImageTag('registry.example.com:5000/chat', 'v1')).toBe('registry.example.com:5000/chat:v1');
  });
});
