import type { Image } from '@cdktf/provider-docker/lib/image';
import type { Id } from '@cdktf/provider-random/lib/id';
import { Token, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { ResourceSpec } from '../core/resources';
import { containerRevision } from './container-revision';
import { HardenedContainer, type ContainerNetwork } from './hardened-container';

/** Lines of a failed task's output its error message shows. */
export const TASK_OUTPUT_LINES = 20;

/** Seconds between the time limit's SIGTERM and its SIGKILL. */
const KILL_AFTER_SECONDS = 10;

export interface ReleaseTaskProps {
  /** Name of the task within its service (`migrate`). */
  readonly taskName: string;
  /** `<product>-<service>` of the service it belongs to: with the task's name and the tag, its container name. */
  readonly serviceName: string;
  /** The service's image (its `docker_image`), so the task runs exactly what is being released. */
  readonly image: Image;
  /** The image reference being released: part of the revision, so a new reference runs the task again. */
  readonly imageRef: string;
  /** The released tag (or a digest's short form): part of the container name and its `image.tag` label. */
  readonly imageTag: string;
  /** The command, run instead of the image's entrypoint and CMD. */
  readonly command: readonly string[];
  /** Seconds before `timeout` stops the command (SIGTERM, SIGKILL 10 s later), failing the release. */
  readonly timeoutSeconds: number;
  /** Plain environment variables (the service's). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secret environment variables (the service's secrets and data connection strings), each a token. @default - none */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /** Networks the task joins: the service's, without its aliases (a running task answers to no name). */
  readonly networks: readonly ContainerNetwork[];
  /** Paths kept writable under the read-only root filesystem (the service's). @default - none */
  readonly writablePaths?: readonly string[];
  /** Mount the root filesystem read-only (the service's). @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** CPU and memory limits, as for every container. */
  readonly resources: ResourceSpec;
  /** Labels of the container; `task` and `image.tag` are added. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** Further values (tokens allowed) whose change runs the task again: the revisions of the tasks a backup precedes. @default - none */
  readonly runsAgainWith?: readonly string[];
}

/**
 * A release task (a schema migration): a hardened one-shot container,
 * `docker_container.<serviceName>-<taskName>`, that Terraform runs to
 * completion while creating it, once per released tag.
 *
 * What the Docker provider does with it (kreuzwerker/terraform-provider-docker
 * v3.6.2, the version @cdktf/provider-docker 12.0.3 wraps;
 * internal/provider/resource_docker_container_funcs.go):
 * - `attach`: resourceDockerContainerCreate starts the container and blocks in
 *   ContainerWait(WaitConditionNotRunning) until it exits; with `logs` it
 *   collects stdout and stderr into `container_logs`.
 * - `must_run = false`: resourceDockerContainerRead accepts the stopped
 *   container and records `State.ExitCode` in `exit_code`. A non-zero exit is
 *   NOT an error there: the create succeeds. So a postcondition on
 *   `exit_code` fails the apply, with the task's output in its message.
 * - delete with `attach`: no ContainerStop, a forced remove.
 *
 * What Terraform does (checked with Terraform 1.11 in tools/e2e and by
 * hand): a failed postcondition after create keeps the object in state,
 * NOT tainted, and skips everything that depends on it, so the product's
 * containers, which depend on their release tasks, are neither created nor
 * replaced. A later plan with the same configuration checks the
 * postcondition against the recorded exit code and fails again: a fixed
 * image (a new tag renames and so replaces the task) runs it again, and
 * `-replace` re-runs it with the same tag.
 *
 * The container's name holds the tag and a revision (regenerated whenever
 * anything about the task changes), so re-applies with an unchanged release
 * plan nothing for it, and a replacement never collides with the container
 * it replaces: Terraform replaces the dependencies of create-before-destroy
 * resources (start-first service containers) create-before-destroy too. The
 * task sets no lifecycle of its own, so a stop-first (singleton) service
 * depending on it gets no cycle.
 */
export class ReleaseTask extends Construct {
  public readonly hardened: HardenedContainer;
  /** Changes whenever the task must run again; part of its container name. */
  public readonly revision: Id;

  public constructor(scope: Construct, id: string, props: ReleaseTaskProps) {
    super(scope, id);
    const fail = (message: string): never => {
      throw new Error(`ReleaseTask ${props.serviceName}/${props.taskName}: ${message}`);
    };
    if (!/^[a-z0-9][a-z0-9-]*$/.test(props.taskName)) fail('taskName must be lowercase letters, digits and "-"');
    if (props.command.length === 0) fail('command must not be empty');
    if (!Number.isInteger(props.timeoutSeconds) || props.timeoutSeconds < 1) fail(`timeoutSeconds must be a whole number >= 1; got ${props.timeoutSeconds}`);
    const instance = `${props.serviceName}-${props.taskName}`;
    // coreutils and busybox `timeout` both take `-s SIG -k SECS SECS PROG ARGS`; the image's entrypoint is replaced.
    const entrypoint = ['timeout', '-s', 'TERM', '-k', String(KILL_AFTER_SECONDS), String(props.timeoutSeconds)];
    const labels = { ...props.labels, task: props.taskName, 'image.tag': props.imageTag };
    const secrets = props.secretEnvironment ?? {};
    // Plain values known only to Terraform (an account id, a variable's public key) are hashed by it, with the secrets.
    const environment = Object.entries(props.environment ?? {});
    const plain = Object.fromEntries(environment.filter(([, value]) => !Token.isUnresolved(value)));
    const unresolved = environment.filter(([, value]) => Token.isUnresolved(value)).sort(([a], [b]) => a.localeCompare(b));
    this.revision = containerRevision(this, `${instance}-revision`, {
      image: props.imageRef,
      settings: {
        entrypoint,
        command: props.command,
        environment: environment.length === 0 ? undefined : plain,
        resources: props.resources,
        labels,
        writablePaths: props.writablePaths ?? [],
        // Only when not the default, as for service containers.
        ...(props.readOnlyRootFilesystem === false ? { readOnlyRootFilesystem: false } : {}),
        secretNames: Object.keys(secrets).sort(),
      },
      references: [...Object.keys(secrets).sort().map((key) => secrets[key]!), ...props.networks.map((network) => network.name), ...unresolved.map(([name, value]) => `${name}=${value}`), ...(props.runsAgainWith ?? [])],
    });
    this.hardened = new HardenedContainer(this, instance, {
      name: `${instance}-${props.imageTag}-${this.revision.hex}`,
      image: props.image,
      entrypoint,
      command: props.command,
      environment: props.environment,
      secretEnvironment: secrets,
      resources: props.resources,
      networks: props.networks.map((network) => ({ name: network.name })),
      writablePaths: props.writablePaths,
      readOnlyRootFilesystem: props.readOnlyRootFilesystem,
      labels,
      runOnce: true,
      keepOutput: true,
      provider: props.provider,
    });
    const container = this.hardened.container;
    // The last lines of the output; `container_logs` is null when the provider read none.
    const lines = 'split("\\n", trimspace(self.container_logs == null ? "" : self.container_logs))';
    const tail = `join("\\n", slice(${lines}, max(0, length(${lines}) - ${TASK_OUTPUT_LINES}), length(${lines})))`;
    container.addOverride('lifecycle.postcondition', [
      {
        condition: '${self.exit_code == 0}',
        error_message: [
          `Release task "${props.taskName}" of ${props.serviceName} (${props.imageTag}) failed: exit code \${self.exit_code}` +
            `\${self.exit_code == 124 || self.exit_code == 143 ? " (124 and 143 are what its time limit of ${props.timeoutSeconds} s gives)" : ""}.`,
          'No container that depends on it was created or replaced; the previous version keeps serving.',
          `A new tag runs it again; to run it again with this tag: terraform apply -replace=docker_container.${instance}.`,
          `Last lines of its output:\n\${${tail}}`,
        ].join('\n'),
      },
    ]);
  }
}
