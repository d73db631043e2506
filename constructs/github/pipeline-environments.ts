import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { DeploymentEnvironment } from './deployment-environment';

/** The GitHub environment pull requests and drift checks plan in: read-only credentials only. */
export const PLAN_ENVIRONMENT = 'plan';

/**
 * The GitHub environment a pull request's plan of a data or credentials stack waits in for a
 * reviewer: the data workspace's run token reads every product's password (issue 30).
 */
export const SENSITIVE_PLAN_ENVIRONMENT = 'plan-data';

/** The GitHub environment every stack of `environment` is applied through. */
export function platformEnvironmentName(environment: string): string {
  return `${environment}-platform`;
}

export interface PipelineEnvironmentsProps {
  /** Repository name (the provider's `owner` is the account). */
  readonly repository: string;
  /** The system environment (`staging`, `production`) whose deployments this gates. */
  readonly environment: string;
  /** Team slugs who approve deployments. @default - none */
  readonly reviewerTeams?: readonly string[];
  /** Users who approve deployments. @default - none */
  readonly reviewerUsers?: readonly string[];
  /** Approvals required. @default - true when reviewers are given */
  readonly requireApproval?: boolean;
  /** Delay before an approved deployment starts. @default Duration.minutes(0) */
  readonly waitTimer?: Duration;
  /** Also create the `plan` and `plan-data` environments (exactly one stack of the system may). @default false */
  readonly withPlanEnvironment?: boolean;
}

/**
 * The GitHub environments the delivery workflows (.github/workflows/) run in, so none is
 * created by GitHub on first use without protection:
 * - `<env>-platform`: every infrastructure apply of that environment runs here; its secrets are
 *   the write credentials (set by hand, never in state), released only to jobs from `main`
 *   after a required reviewer approved (GitHub: "a job also cannot access secrets that are
 *   defined in an environment until all the environment protection rules pass",
 *   docs.github.com/en/actions/reference/environments).
 * - `plan` (one per system): read-only credentials for pull-request plans and drift checks; main
 *   only, so a workflow a pull request writes or a dispatch from a branch gets none of them: pull
 *   requests are planned by .github/workflows/pr-plan.yml, which runs from main (`workflow_run`)
 *   after the gate of the base commit checked the configuration (scripts/pr-gate/). No reviewers:
 *   nothing here can change infrastructure.
 * - `plan-data` (one per system): the same for a pull request's data and credentials stacks,
 *   whose plan may read passwords, after one of this environment's reviewers approved.
 * The stack holding these (`<env>-network`) is applied through `<env>-platform` itself, so its
 * first apply is the bootstrap from a workstation (README, "Delivery pipeline").
 */
export class PipelineEnvironments extends Construct {
  /** `<env>-platform`. */
  public readonly platform: DeploymentEnvironment;
  /** `plan`, when this construct owns it. */
  public readonly plan?: DeploymentEnvironment;
  /** `plan-data`, when this construct owns `plan`. */
  public readonly sensitivePlan?: DeploymentEnvironment;

  public constructor(scope: Construct, id: string, props: PipelineEnvironmentsProps) {
    super(scope, id);
    this.platform = new DeploymentEnvironment(this, 'platform', {
      repository: props.repository,
      name: platformEnvironmentName(props.environment),
      reviewerTeams: props.reviewerTeams,
      reviewerUsers: props.reviewerUsers,
      requireApproval: props.requireApproval,
      waitTimer: props.waitTimer ?? Duration.minutes(0),
      deployBranches: ['main'],
    });
    if (props.withPlanEnvironment) {
      this.plan = new DeploymentEnvironment(this, 'plan', { repository: props.repository, name: PLAN_ENVIRONMENT, deployBranches: ['main'] });
      this.sensitivePlan = new DeploymentEnvironment(this, 'plan-data', {
        repository: props.repository,
        name: SENSITIVE_PLAN_ENVIRONMENT,
        // The production environment's reviewers; a system without any has none here either (nor on its platform apply).
        reviewerTeams: props.reviewerTeams,
        reviewerUsers: props.reviewerUsers,
        deployBranches: ['main'],
      });
    }
  }
}
