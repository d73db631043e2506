import { ActionsEnvironmentSecret } from '@cdktf/provider-github/lib/actions-environment-secret';
import { ActionsEnvironmentVariable } from '@cdktf/provider-github/lib/actions-environment-variable';
import { DataGithubTeam } from '@cdktf/provider-github/lib/data-github-team';
import { DataGithubUser } from '@cdktf/provider-github/lib/data-github-user';
import { RepositoryEnvironment } from '@cdktf/provider-github/lib/repository-environment';
import { RepositoryEnvironmentDeploymentPolicy } from '@cdktf/provider-github/lib/repository-environment-deployment-policy';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import type { SecretValue } from '../core/secret-value';
import { assertActionsName } from './actions-names';

/** GitHub accepts at most six required reviewers (users and teams together) per environment. */
export const MAX_REVIEWERS = 6;
/** GitHub's longest wait timer: 30 days. */
export const MAX_WAIT_TIMER = Duration.days(30);

export interface DeploymentEnvironmentProps {
  /** Repository name (the provider's `owner` is the account). */
  readonly repository: string;
  /** Environment name; by convention the stack it deploys (`production-chat`). */
  readonly name: string;
  /** Slugs of teams whose members may approve a deployment. @default - none */
  readonly reviewerTeams?: readonly string[];
  /** Logins of users who may approve a deployment. @default - none */
  readonly reviewerUsers?: readonly string[];
  /**
   * Deployments wait for a reviewer's approval.
   * @default - true when reviewers are given
   */
  readonly requireApproval?: boolean;
  /** Delay before a deployment job starts (a last chance to cancel). @default Duration.minutes(0) */
  readonly waitTimer?: Duration;
  /**
   * Branches allowed to deploy here (name patterns), or 'all' for no branch policy (an
   * environment holding only read-only credentials that pull requests plan with).
   * @default ['main']
   */
  readonly deployBranches?: readonly string[] | 'all';
  /**
   * Repository admins may deploy without approval.
   * @default - false when approval is required (the rule then holds for everyone); GitHub's default (true) otherwise
   */
  readonly adminsCanBypass?: boolean;
}

/**
 * A GitHub deployment environment of the repository: who may deploy (branch
 * policy), who must approve (reviewers, wait timer), and the secrets and
 * variables its jobs see. GitHub has no environment URL setting; the URL a
 * deployment shows is set by the workflow (`environment.url`), so `url()`
 * publishes it as the variable `DEPLOY_URL` for the workflow to use.
 */
export class DeploymentEnvironment extends Construct {
  public readonly environment: RepositoryEnvironment;
  public readonly name: string;
  public readonly requiresApproval: boolean;
  private readonly repository: string;
  /** The environment's name as a reference, so secrets and variables wait for the environment. Read once: each read makes a token. */
  private readonly environmentRef: string;
  private readonly secretNames = new Set<string>();
  private readonly variableNames = new Set<string>();

  public constructor(scope: Construct, id: string, props: DeploymentEnvironmentProps) {
    super(scope, id);
    const owner = `DeploymentEnvironment ${props.name}`;
    if (!/^[A-Za-z0-9._-]{1,255}$/.test(props.name)) {
      throw new Error(`${owner}: the name may use letters, digits, ".", "_" and "-" only, at most 255 characters`);
    }
    const teams = props.reviewerTeams ?? [];
    const users = props.reviewerUsers ?? [];
    const reviewerCount = teams.length + users.length;
    this.requiresApproval = props.requireApproval ?? reviewerCount > 0;
    if (this.requiresApproval && reviewerCount === 0) {
      throw new Error(`${owner}: requireApproval needs at least one reviewer team or user; GitHub cannot require approval from nobody`);
    }
    if (reviewerCount > MAX_REVIEWERS) {
      throw new Error(`${owner}: ${reviewerCount} reviewers given; GitHub allows at most ${MAX_REVIEWERS} (users and teams together). Use a team for larger groups`);
    }
    for (const [kind, names] of [['team', teams], ['user', users]] as const) {
      const duplicate = names.find((name, index) => names.indexOf(name) !== index);
      if (duplicate !== undefined) throw new Error(`${owner}: reviewer ${kind} "${duplicate}" is listed twice`);
    }
    const waitSeconds = (props.waitTimer ?? Duration.minutes(0)).toSeconds();
    if (waitSeconds % 60 !== 0 || waitSeconds > MAX_WAIT_TIMER.toSeconds()) {
      throw new Error(`${owner}: waitTimer must be whole minutes from 0 to 43200 (30 days, GitHub's limit); got ${waitSeconds} seconds`);
    }
    const allBranches = props.deployBranches === 'all';
    const branches = allBranches ? [] : ((props.deployBranches as readonly string[] | undefined) ?? ['main']);
    if (!allBranches && branches.length === 0) throw new Error(`${owner}: deployBranches is empty, so nothing could deploy; give at least one branch (e.g. "main")`);

    this.name = props.name;
    this.repository = props.repository;
    // Reviewers are numeric ids in GitHub's API; resolve the names the environment file uses.
    const teamIds = teams.map((slug) => Token.asNumber(new DataGithubTeam(this, `team-${slug}`, { slug, summaryOnly: true }).id));
    const userIds = users.map((login) => Token.asNumber(new DataGithubUser(this, `user-${login}`, { username: login }).id));
    this.environment = new RepositoryEnvironment(this, 'environment', {
      repository: props.repository,
      environment: props.name,
      waitTimer: waitSeconds / 60,
      preventSelfReview: this.requiresApproval,
      canAdminsBypass: props.adminsCanBypass ?? !this.requiresApproval,
      reviewers: this.requiresApproval ? [{ teams: teamIds, users: userIds }] : undefined,
      // Custom policies, not "protected branches": exactly the listed branches may deploy.
      deploymentBranchPolicy: allBranches ? undefined : { protectedBranches: false, customBranchPolicies: true },
    });
    this.environment.overrideLogicalId(id);
    this.environmentRef = this.environment.environment;
    for (const branch of branches) {
      new RepositoryEnvironmentDeploymentPolicy(this, `branch-${branch}`, {
        repository: props.repository,
        environment: this.environmentRef,
        branchPattern: branch,
      });
    }
  }

  /** An environment secret; its value can only be a sensitive variable's reference. */
  public addSecret(name: string, value: SecretValue): ActionsEnvironmentSecret {
    this.claim('secret', name, this.secretNames);
    return new ActionsEnvironmentSecret(this, `secret-${name}`, {
      repository: this.repository,
      environment: this.environmentRef,
      secretName: name,
      plaintextValue: value.value,
    });
  }

  /** An environment variable, for values that are not secret (image tags, URLs, addresses). */
  public addVariable(name: string, value: string): ActionsEnvironmentVariable {
    this.claim('variable', name, this.variableNames);
    return new ActionsEnvironmentVariable(this, `variable-${name}`, { repository: this.repository, environment: this.environmentRef, variableName: name, value });
  }

  private claim(kind: 'secret' | 'variable', name: string, taken: Set<string>): void {
    assertActionsName(`DeploymentEnvironment ${this.name}`, kind, name);
    if (taken.has(name)) throw new Error(`DeploymentEnvironment ${this.name}: ${kind} ${name} is set twice`);
    taken.add(name);
  }

  /** Publishes the URL deployments link to, as the variable `DEPLOY_URL`. */
  public url(url: string): ActionsEnvironmentVariable {
    if (!/^https:\/\/[^\s/]+/.test(url)) throw new Error(`DeploymentEnvironment ${this.name}: the deployment URL must be https://...; got "${url}"`);
    return this.addVariable('DEPLOY_URL', url);
  }
}
