/**
 * Harbor production's data node on a real single-node swarm, for the tests of the data stack's Swarm services
 * (integration/postgres-provisioner-swarm.test.ts, integration/backup-job-swarm.test.ts): a private dockerd with the
 * node labelled `data=true` (swarm-formation.ts), the data and backend overlays (attachable, encrypted), and the
 * PostgreSQL 15 server as on a swarm's data host: a plain container under the alias `postgres`, from the e2e's
 * stand-in for `postgres:16-alpine` (tools/e2e/engine/standins.ts: busybox, and PostgreSQL 15's own binaries from
 * this machine). The services run as synthesized: `spec()` turns a synthesized `docker_service` into what the
 * provider would send, with the synthesized secrets created under the names the provider would give them.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { harbor } from '../../examples/harbor';
import { EngineClient } from '../../tools/e2e/engine/api';
import { importStandIns } from '../../tools/e2e/engine/standins';
import { SwarmEngine, serviceSpecOf } from './swarm-engine';
import { resources, SynthesizedSystem } from './synth';

export const DATA_NETWORK = 'harbor-data';
/** The scraper's network (Prometheus joins the backend overlay: stacks/monitoring-stack.ts). */
export const SCRAPE_NETWORK = 'harbor-backend';
export const POSTGRES_IMAGE = 'postgres:16-alpine';

/** A fresh random password. */
export const password = (): string => randomBytes(16).toString('hex');

/** The running task of a service and its container, and whether its health check passed. */
export interface RunningTask {
  readonly task: any;
  readonly container: any;
}

export class DataNodeSwarm {
  /** Starts the daemon, imports the stand-in images (`images`: more of them, given the client and a work directory) and starts the server. */
  public static async start(options: { readonly superuserPassword: string; readonly images?: (client: EngineClient, work: string, services: Record<string, any>) => Promise<void> }): Promise<DataNodeSwarm> {
    const data = new SynthesizedSystem(harbor).synth('production-data');
    const engine = await SwarmEngine.start();
    const node = new DataNodeSwarm(engine, resources(data, 'docker_service'), resources(data, 'docker_secret'));
    const client = new EngineClient(engine.socket);
    await importStandIns(client, [{ image: POSTGRES_IMAGE, ports: [], extras: new Set(['postgres']), shellLess: false, drainSeconds: 0 }], node.work);
    await options.images?.(client, node.work, node.services);
    engine.cli(['node', 'update', '--label-add', 'data=true', engine.cli(['info', '--format', '{{.Swarm.NodeID}}'])]);
    for (const network of [DATA_NETWORK, SCRAPE_NETWORK]) engine.cli(['network', 'create', '--driver', 'overlay', '--attachable', '--opt', 'encrypted', network]);
    // Its POSTGRES_PASSWORD is docs/scaling.md's "What is not Swarm yet"; its socket directory writable as the synthesized container's (writablePaths).
    engine.cli(['run', '-d', '--name', 'postgres', '--network', DATA_NETWORK, '--network-alias', 'postgres', '--tmpfs', '/var/run/postgresql:mode=1777', '-e', `POSTGRES_PASSWORD=${options.superuserPassword}`, '-e', 'PGDATA=/var/lib/pgdata', POSTGRES_IMAGE, 'docker-entrypoint.sh', 'postgres']);
    await engine.until('the server accepts connections', async () => node.login('postgres', options.superuserPassword, 'postgres').ok, 60).catch((error: Error) => {
      throw new Error(`${error.message}\nthe server's log:\n${engine.cli(['logs', 'postgres'])}\nlast login: ${node.login('postgres', options.superuserPassword, 'postgres').output}`);
    });
    return node;
  }

  /** Terraform references of the synthesized services other than secrets and networks, by the test's choice. */
  public readonly values = new Map<string, string>();
  /** A directory of the daemon's, removed with it. */
  public readonly work: string;
  private readonly references = new Map<string, string>();

  private constructor(
    public readonly engine: SwarmEngine,
    /** The synthesized `docker_service`s of Harbor's production data stack, by id. */
    public readonly services: Record<string, any>,
    private readonly secrets: Record<string, any>,
  ) {
    this.work = fs.mkdtempSync(path.join(engine.dir, 'standin-'));
  }

  public stop(): Promise<void> {
    return this.engine.stop();
  }

  /** Whether a secret of this synthesized id was created (a service mounting it finds it). */
  public hasSecret(id: string): boolean {
    return this.references.has(`\${docker_secret.${id}.id}`);
  }

  /** The synthesized docker_secret `id` holding `value`, named as the provider names it (a fresh revision for the random_id). */
  public async createSecret(id: string, value: string): Promise<{ id: string; name: string }> {
    const name = String(this.secrets[id].name).replace(/\$\{random_id\.[^}]+\.hex\}/, randomBytes(4).toString('hex'));
    const { ID } = await this.engine.api('POST', '/secrets/create', { Name: name, Data: Buffer.from(value).toString('base64') });
    this.references.set(`\${docker_secret.${id}.id}`, ID);
    this.references.set(`\${docker_secret.${id}.name}`, name);
    return { id: ID, name };
  }

  /** A synthesized service as the provider would send it; only the update monitor is shortened (24 s: the probe's worst case) to keep the run short. */
  public spec(synthesized: any): any {
    const body = structuredClone(synthesized);
    body.update_config.monitor = '2s';
    body.rollback_config.monitor = '2s';
    return serviceSpecOf(body, (reference) => this.resolve(reference));
  }

  /** The running task of a service and its container, if any (a task with a health check runs once it is healthy). */
  public async runningTask(name: string, options: { readonly healthy?: boolean } = {}): Promise<RunningTask | undefined> {
    const [task] = (await this.engine.tasks(name)).filter((candidate) => candidate.DesiredState === 'running' && candidate.Status.State === 'running');
    if (task === undefined) return undefined;
    const container = await this.engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`);
    return options.healthy && container.State.Health?.Status !== 'healthy' ? undefined : { task, container };
  }

  /** Every process of a container: its arguments and its environment, one line each. */
  public processesOf(containerId: string): string {
    return this.engine.cli(['exec', containerId, 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; tr "\\0" " " < $p/environ; echo; done']);
  }

  /** Logs in to `database` as `role` over TCP (scram-sha-256) from inside the server's container; the exit code and output. */
  public login(role: string, secret: string, database: string): { ok: boolean; output: string } {
    try {
      return { ok: true, output: this.engine.cli(['exec', '-e', `PGPASSWORD=${secret}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', role, '-d', database, '-Atc', 'SELECT current_user']) };
    } catch (error) {
      return { ok: false, output: (error as Error).message };
    }
  }

  private resolve(reference: string): string {
    if (/^\$\{data\.terraform_remote_state\.[^}]+_docker_network_data\}$/.test(reference)) return DATA_NETWORK;
    if (/^\$\{data\.terraform_remote_state\.[^}]+_docker_network_backend\}$/.test(reference)) return SCRAPE_NETWORK;
    const value = this.references.get(reference) ?? this.values.get(reference);
    if (value === undefined) throw new Error(`no engine object for ${reference}`);
    return value;
  }
}
