/**
 * Release tasks (schema migrations) in the synthesized JSON: run with the
 * service's image, variables and networks, hardened and time-limited, once
 * per released tag, and before any new container of the product.
 */
import { manacore } from '../environments';
import { nutri } from '../examples/nutri';
import { resolveSystem } from '../system/resolve';
import { MAX_TASK_TIMEOUT_SECONDS } from '../system/tasks';
import { container, envOf, labelsOf } from './helpers/docker';
import { environmentOf, serviceOf, variant } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

/** Manacore with production's chat at `tag`. */
function chatAt(tag: string): TerraformJson {
  return new SynthesizedSystem(
    variant(manacore, (system) => {
      environmentOf(system, 'production').products.find((deployment) => deployment.product === 'chat')!.imageTag = tag;
    }),
  ).synth('production-chat');
}

let chat: TerraformJson;
let chatNext: TerraformJson;
let nutriProduct: TerraformJson;

beforeAll(() => {
  chat = chatAt('main-1111111');
  chatNext = chatAt('main-2222222');
  nutriProduct = new SynthesizedSystem(nutri).synth('production-nutri');
});

const TASK = 'chat-backend-migrate';

describe('a release task', () => {
  it('runs the command with the very image resource of its service, under a time limit, to completion', () => {
    const task = container(chat, TASK);
    expect(task.image).toBe(container(chat, 'chat-backend').image);
    expect(task.entrypoint).toEqual(['timeout', '-s', 'TERM', '-k', '10', '600']);
    expect(task.command).toEqual(['pnpm', 'migration:run']);
    expect(task).toMatchObject({ attach: true, must_run: false, logs: true, restart: 'no' });
    expect(task.wait).toBe(false);
  });

  it('is hardened and resource-limited like the service', () => {
    const task = container(chat, TASK);
    const backend = container(chat, 'chat-backend');
    expect(task).toMatchObject({ user: '1001', read_only: true, security_opts: ['no-new-privileges:true'], capabilities: { drop: ['ALL'] } });
    expect(task.tmpfs).toEqual(backend.tmpfs);
    expect([task.memory, task.memory_swap, task.cpus]).toEqual([backend.memory, backend.memory_swap, backend.cpus]);
  });

  it("gets exactly the service's variables (its DATABASE_URL and secrets, nothing of other services)", () => {
    const taskEnv = envOf(container(chat, TASK));
    const backendEnv = envOf(container(chat, 'chat-backend'));
    // The backend's client-address header belongs to its route; a task has none.
    const { CLIENT_IP_HEADER: _route, ...serviceEnv } = backendEnv;
    expect(taskEnv).toEqual(serviceEnv);
    expect(Object.keys(taskEnv)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'AZURE_OPENAI_API_KEY']));
    const nutriEnv = envOf(container(nutriProduct, 'nutri-api-migrate'));
    expect(Object.keys(nutriEnv).sort()).toEqual(['DATABASE_URL', 'DIRECT_URL', 'JWT_SECRET', 'ML_SERVICE_URL', 'NODE_ENV', 'PORT', 'REDIS_URL']);
  });

  it("joins the service's networks, on the product network too, but answers to no name", () => {
    const task = container(chat, TASK);
    const backend = container(chat, 'chat-backend');
    expect(task.networks_advanced.map((network: any) => network.name)).toEqual(backend.networks_advanced.map((network: any) => network.name));
    for (const network of task.networks_advanced) expect(network.aliases).toBeUndefined();
  });

  it('is labelled with its product, service, task and tag (what `ops tasks` reads)', () => {
    expect(labelsOf(container(chat, TASK))).toMatchObject({ product: 'chat', service: 'backend', task: 'migrate', 'image.tag': 'main-1111111' });
  });

  it('fails the apply on a non-zero exit with its name, tag, exit code and the last lines of its output', () => {
    const [postcondition] = container(chat, TASK).lifecycle.postcondition;
    expect(postcondition.condition).toBe('${self.exit_code == 0}');
    expect(postcondition.error_message).toContain('Release task "migrate" of chat-backend (main-1111111) failed: exit code ${self.exit_code}');
    expect(postcondition.error_message).toContain('time limit of 600 s');
    expect(postcondition.error_message).toMatch(/slice\(split\("\\n", trimspace\(self\.container_logs/);
    expect(postcondition.error_message).toContain('terraform apply -replace=docker_container.chat-backend-migrate');
  });
});

describe('when a release task runs', () => {
  it('every new container of the product waits for it', () => {
    // The pre-migration backup runs before the task, not after it (pre-migration-backup.test.ts).
    const dependents = Object.entries(resources(chat, 'docker_container')).filter(([address, body]) => address !== TASK && labelsOf(body).task === undefined);
    expect(dependents.map(([address]) => address).sort()).toEqual(['chat-backend', 'chat-landing', 'chat-web']);
    for (const [, body] of dependents) expect(body.depends_on).toContain(`docker_container.${TASK}`);
  });

  it('runs again for a new tag (its name, and so the container, changes) and not for an unchanged one', () => {
    expect(container(chatNext, TASK).name).not.toBe(container(chat, TASK).name);
    expect(container(chat, TASK).name).toBe('chat-backend-migrate-main-1111111-${random_id.chat-backend-migrate-revision.hex}');
    expect(resources(chatNext, 'random_id')[`${TASK}-revision`].keepers.image).toContain(':main-2222222');
    // The same release synthesizes the same task: a re-apply plans nothing for it.
    expect(container(chatAt('main-1111111'), TASK)).toEqual(container(chat, TASK));
  });

  it('is absent from products whose services declare none', () => {
    const memoro = new SynthesizedSystem(manacore).synth('production-memoro');
    expect(Object.keys(resources(memoro, 'docker_container')).filter((address) => address.endsWith('-migrate'))).toEqual([]);
  });
});

describe('task descriptions', () => {
  const withTask = (task: Record<string, unknown>, service = 'api') =>
    variant(nutri, (system) => {
      (serviceOf(system, 'nutri', service) as any).tasks = { migrate: task };
    });

  it('refuses an empty command', () => {
    expect(() => resolveSystem(withTask({ command: [] }))).toThrow(/product "nutri", field "services\.api\.tasks\.migrate\.command": got \[\]; allowed: a non-empty list/);
  });

  it("refuses a time limit beyond the Docker provider's create timeout, and says why", () => {
    expect(() => resolveSystem(withTask({ command: ['migrate'], timeoutSeconds: 3600 }))).toThrow(
      new RegExp(`field "services\\.api\\.tasks\\.migrate\\.timeoutSeconds": got 3600; allowed: a whole number of seconds from 10 to ${MAX_TASK_TIMEOUT_SECONDS}.*20-minute create timeout`),
    );
  });

  it('refuses a task name that cannot be part of a container name', () => {
    const bad = variant(nutri, (system) => {
      (serviceOf(system, 'nutri', 'api') as any).tasks = { Migrate_DB: { command: ['migrate'] } };
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.api\.tasks\.Migrate_DB": got "Migrate_DB"; allowed: lowercase letters/);
  });

  it('names a misspelt task field', () => {
    expect(() => resolveSystem(withTask({ command: ['migrate'], timeout: 60 }))).toThrow(/tasks\.migrate\.timeout/);
  });

  it('refuses tasks on a service without a container', () => {
    const bad = variant(nutri, (system) => {
      system.products[0]!.services.push({ name: 'mobile', kind: 'mobile', tasks: { migrate: { command: ['migrate'] } } } as any);
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.mobile\.tasks".*a mobile service has no container/);
  });
});
