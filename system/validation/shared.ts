/** What every part of validation shares: the issue log, name grammars, and checks used by several parts. */
import type { ConfigurationIssue } from '../../constructs/core/configuration-error';
import { type RestartPolicy, type ServiceSpec } from '../model';
export const NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;
export const ENV_VAR = /^[A-Z][A-Z0-9_]*$/;
/** Docker's tag grammar. */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Production tags must be immutable: a commit (`main-<sha>`) or a release (`v1.2.3`). */
export const PRODUCTION_TAG = /^(main-[0-9a-f]{7,40}|v\d+\.\d+\.\d+)$/;
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const PORT_NAME = /^[a-z][a-z0-9-]*$/;
/** Containers of one service; more belongs on an orchestrator. */
const MAX_REPLICAS = 20;
/** Docker's reference grammar, simplified: `[registry/]path[:tag][@sha256:<64 hex>]`, with a tag or a digest. */
export const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
export const IMAGE_REF_ALLOWED = 'an image reference with a tag, a digest or both: "registry/repository:tag" or "repository@sha256:<64 hex digits>"';
export const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( .*)?$/;
export const MAX_DNS_LABEL = 63;
/** An age X25519 recipient: "age1" and 58 bech32 characters. */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
export const TERRAFORM_VARIABLE = /^[a-z][a-z0-9_]*$/;
/** A Hetzner network holds at most 100 servers. */
export const MAX_SERVERS_PER_NETWORK = 100;
/** A spread placement group holds at most 10 servers. */
export const MAX_SERVERS_PER_SPREAD_GROUP = 10;

/** "an api", "an internal", "a worker". */
export function withArticle(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

export type Report = (issue: Omit<ConfigurationIssue, 'environment' | 'product'>) => void;

/** Issues collected under one environment/product context. */
export class IssueLog {
  public readonly issues: ConfigurationIssue[] = [];

  public in(context: { environment?: string; product?: string }): Report {
    return (issue) => this.issues.push({ ...context, ...issue });
  }
}

/** A port number Docker accepts. */
export const isPort = (port: unknown) => typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;

/** Replicas: a whole number from 1 to MAX_REPLICAS, and exactly 1 for a singleton. */
export function checkReplicas(replicas: unknown, field: string, report: Report, service: ServiceSpec): void {
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    report({ field, value: replicas, allowed: `a whole number from 1 to ${MAX_REPLICAS}` });
  } else if (service.singleton === true && replicas > 1) {
    report({
      field,
      value: replicas,
      allowed: `1 (${service.name} is a singleton), or drop singleton if the service tolerates running its jobs several times`,
      why: `every replica of ${service.name} would run each of its jobs: ${replicas} replicas, ${replicas} runs`,
    });
  }
}

/** A restart policy Docker knows, with a sane retry limit. */
export function checkRestart(restart: RestartPolicy, field: string, report: Report): void {
  if (restart === 'always' || restart === 'unless-stopped') return;
  const retries = typeof restart === 'object' && restart !== null ? restart.onFailure?.maxRetries : undefined;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 1 || retries > 100) {
    report({ field, value: restart, allowed: '"always", "unless-stopped", or { onFailure: { maxRetries: 1 to 100 } }' });
  }
}

/** Paths kept writable as tmpfs under a read-only root: absolute, below "/", no "..". */
const WRITABLE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

export function checkWritablePaths(paths: readonly string[] | undefined, field: string, report: Report): void {
  for (const path of paths ?? []) {
    if (typeof path !== 'string' || !WRITABLE_PATH.test(path) || path.split('/').includes('..')) {
      report({ field, value: path, allowed: 'an absolute path below "/" such as "/var/cache/app" (letters, digits, ".", "_", "-"; no "..")', why: 'each becomes a tmpfs under the read-only root filesystem; "/" would make the whole root writable' });
    }
  }
}
