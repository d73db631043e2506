import type { Image } from '@cdktf/provider-docker/lib/image';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { HttpProbeClient } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import type { ContainerNetwork } from './hardened-container';
import { ReleaseTask } from './release-task';
import { RELEASE_LABELS } from './traffic-split';

/** The variable a command check finds the new version's address in (`http://<container>:<port>`). */
export const SMOKE_TARGET_VARIABLE = 'SMOKE_TARGET_URL';

/** Characters of the answer's body a failed HTTP check prints. */
export const SMOKE_BODY_CHARS = 500;

/** What an HTTP smoke check requests and expects. */
export interface SmokeRequest {
  /** Path requested (`/api/health/deep`). */
  readonly path: string;
  /** Port of the new version requested. */
  readonly port: number;
  /** Status the answer must have. */
  readonly status: number;
  /** Text the body must contain. @default - any body */
  readonly bodyContains?: string;
  /** The HTTP client the image has (the one its health check runs). */
  readonly client: HttpProbeClient;
}

export interface SmokeCheckProps {
  /** Name of the check within its service (`home`). */
  readonly checkName: string;
  /** `<product>-<service>`: with `smoke-<check>`, its container name. */
  readonly serviceName: string;
  /**
   * The new version's container name (a token of its `docker_container`):
   * the check requests it by that name on the product network, never
   * through the edge, and runs only once it exists (Terraform's dependency).
   */
  readonly target: string;
  /** The release's image resource and reference, so the check runs the very version released. */
  readonly image: Image;
  readonly imageRef: string;
  readonly imageTag: string;
  /** An HTTP request, or a command run with the release's image (exit 0 passes). */
  readonly check: { readonly http: SmokeRequest } | { readonly command: readonly string[]; readonly port?: number };
  /** Seconds the check may take. */
  readonly timeoutSeconds: number;
  /** Networks shared with the target (its product network), without aliases. */
  readonly networks: readonly ContainerNetwork[];
  /** CPU and memory of the check's container. */
  readonly resources: ResourceSpec;
  /** Labels; `task` (`smoke-<check>`) and `image.tag` are added. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
}

/**
 * One smoke check of a new version: a one-shot container with the release's
 * image (a ReleaseTask, so hardened, time-limited, its exit code a
 * postcondition) that requests the new version's own container once it is
 * healthy. A failure fails the apply with the check's name and output, and
 * nothing that depends on the check (the traffic switch) happens.
 *
 * An HTTP check runs with the HTTP client the service's health check already
 * runs in that image (wget, curl or node: Debian-slim images have no curl,
 * distroless ones no shell), so the check needs nothing the image lacks.
 */
export class SmokeCheck extends Construct {
  public readonly task: ReleaseTask;

  public constructor(scope: Construct, id: string, props: SmokeCheckProps) {
    super(scope, id);
    const command = 'http' in props.check ? httpCheckCommand(props.target, props.check.http, props.timeoutSeconds) : [...props.check.command];
    const port = 'http' in props.check ? props.check.http.port : props.check.port;
    this.task = new ReleaseTask(this, 'task', {
      taskName: `smoke-${props.checkName}`,
      serviceName: props.serviceName,
      image: props.image,
      imageRef: props.imageRef,
      imageTag: props.imageTag,
      command,
      // The time limit of the whole container; the request's own is the same, so a hung answer reports itself first.
      timeoutSeconds: props.timeoutSeconds + 5,
      environment: port === undefined ? undefined : { [SMOKE_TARGET_VARIABLE]: `http://${props.target}:${port}` },
      networks: props.networks,
      resources: props.resources,
      // Marks it a release step, not a release task, for the plan comment (scripts/plan-comment/release-steps.ts).
      labels: { ...props.labels, [RELEASE_LABELS.step]: 'smoke' },
      provider: props.provider,
      describedAs: 'Smoke check',
      failureConsequence: 'The new version received no traffic; the previous version keeps serving.',
    });
  }
}

/** Single-quoted for sh: the validation keeps quotes out of paths and expected texts, this keeps it safe regardless. */
const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The command of an HTTP check: request the target, print what came back,
 * exit 1 unless the status (and body) are as expected. curl and wget run in
 * `sh` (images that have them have a shell); node needs none.
 */
export function httpCheckCommand(target: string, request: SmokeRequest, timeoutSeconds: number): string[] {
  // The script's own `${` are shell and JavaScript, not Terraform: escaped, while the target (a token) is put in after.
  return scriptCommand(request, timeoutSeconds).map((part) => part.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{').split(TARGET_PLACEHOLDER).join(target));
}

/** Stands for the target's name while the script is escaped for Terraform. */
const TARGET_PLACEHOLDER = '@@smoke-target@@';

function scriptCommand(request: SmokeRequest, timeoutSeconds: number): string[] {
  const url = `http://${TARGET_PLACEHOLDER}:${request.port}${request.path}`;
  if (request.client === 'node') {
    const script = [
      `const url = ${JSON.stringify(url)};`,
      `fetch(url, { signal: AbortSignal.timeout(${timeoutSeconds * 1000}) }).then(async (answer) => {`,
      '  const body = await answer.text();',
      '  console.log(`GET ${url} -> ${answer.status}`);',
      `  const problem = answer.status !== ${request.status} ? 'expected status ${request.status}' : ${request.bodyContains === undefined ? 'undefined' : `!body.includes(${JSON.stringify(request.bodyContains)}) ? ${JSON.stringify(`body does not contain: ${request.bodyContains}`)} : undefined`};`,
      `  if (problem) { console.log(problem); console.log(body.slice(0, ${SMOKE_BODY_CHARS})); process.exit(1); }`,
      "  console.log('passed');",
      '}, (error) => { console.log(`GET ${url} -> no answer: ${error.message}`); process.exit(1); });',
    ].join('\n');
    return ['node', '-e', script];
  }
  // Each client leaves the status in $status and the body in /tmp/smoke-body (/tmp is the container's tmpfs).
  const fetch =
    request.client === 'curl'
      ? `status=$(curl -sS -o /tmp/smoke-body -w '%{http_code}' --max-time ${timeoutSeconds} ${quote(url)} 2>/tmp/smoke-error)`
      : // wget exits non-zero on any status >= 400; -S prints the status line (busybox and GNU) to stderr. No -T:
        // Debian's busybox 1.35 wget crashes (SIGSEGV) with it; the container's `timeout` bounds the request instead.
        `wget -S -O /tmp/smoke-body ${quote(url)} 2>/tmp/smoke-error; status=$(grep -o 'HTTP/[0-9.]* [0-9][0-9][0-9]' /tmp/smoke-error | tail -n 1 | cut -d ' ' -f 2)`;
  const lines = [
    'touch /tmp/smoke-body',
    fetch,
    `echo "GET ${url} -> \${status:-no answer}"`,
    `if [ -z "$status" ] || [ "$status" = 000 ]; then cat /tmp/smoke-error; exit 1; fi`,
    `if [ "$status" != ${request.status} ]; then echo 'expected status ${request.status}'; head -c ${SMOKE_BODY_CHARS} /tmp/smoke-body; echo; exit 1; fi`,
    ...(request.bodyContains === undefined
      ? []
      : [`if ! grep -F -q -e ${quote(request.bodyContains)} /tmp/smoke-body; then echo ${quote(`body does not contain: ${request.bodyContains}`)}; head -c ${SMOKE_BODY_CHARS} /tmp/smoke-body; echo; exit 1; fi`]),
    'echo passed',
  ];
  return ['sh', '-c', lines.join('\n')];
}
