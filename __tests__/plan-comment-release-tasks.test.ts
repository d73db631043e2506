/** The plan comment says which release tasks a change runs, from the task containers the plan creates. */
import { renderPlanComment } from '../scripts/plan-comment/render';

const labels = (values: Record<string, string>) => Object.entries(values).map(([label, value]) => ({ label, value }));

function container(name: string, actions: string[], containerLabels: Record<string, string>): unknown {
  return {
    address: `docker_container.${name}`,
    mode: 'managed',
    type: 'docker_container',
    name,
    provider_name: 'registry.terraform.io/kreuzwerker/docker',
    change: { actions, before: null, after: { labels: labels(containerLabels) }, after_unknown: {}, before_sensitive: false, after_sensitive: false },
  };
}

const plan = (changes: unknown[]) => ({ format_version: '1.2', terraform_version: '1.11.4', resource_changes: changes, output_changes: {} });

describe('release tasks in the plan comment', () => {
  it('names each task a replaced task container runs, with its product and tag', () => {
    const body = renderPlanComment([
      {
        stack: 'production-chat',
        plan: plan([
          container('chat-backend-migrate', ['create', 'delete'], { product: 'chat', service: 'backend', task: 'migrate', 'image.tag': 'main-abc1234' }),
          container('chat-backend', ['create', 'delete'], { product: 'chat', service: 'backend', 'image.tag': 'main-abc1234' }),
        ]),
      },
    ]).body;
    expect(body).toContain('### Release tasks');
    expect(body).toContain('- `production-chat`: `chat`: runs `migrate` (`backend`) with `main-abc1234`');
    // Only the task: the service container is no task.
    expect(body.match(/: runs `/g)).toHaveLength(1);
  });

  it("says a product's database is backed up before its tasks run", () => {
    const body = renderPlanComment([
      {
        stack: 'production-chat',
        plan: plan([
          container('chat-pre-migration-backup', ['create'], { product: 'chat', task: 'pre-migration-backup', 'image.tag': 'main-abc1234' }),
          container('chat-backend-migrate', ['create', 'delete'], { product: 'chat', service: 'backend', task: 'migrate', 'image.tag': 'main-abc1234' }),
        ]),
      },
    ]).body;
    expect(body).toContain("- `production-chat`: `chat`: backs up `chat`'s database, then runs `migrate` (`backend`) with `main-abc1234`");
    expect(body.match(/^- `production-chat`/gm)).toHaveLength(1);
    expect(body).toContain('Pre-migration backups');
  });

  it('says nothing of tasks when the plan runs none (a destroyed task runs nothing)', () => {
    const body = renderPlanComment([
      { stack: 'production-chat', plan: plan([container('chat-backend-migrate', ['delete'], { product: 'chat', service: 'backend', task: 'migrate', 'image.tag': 'main-abc1234' })]) },
    ]).body;
    expect(body).not.toContain('Release tasks');
  });
});
