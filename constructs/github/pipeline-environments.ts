import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { DeploymentEnvironment } from './deployment-environment';

/** The GitHub environment pull requests and drift checks plan in: read-only credentials only. */
export const PLAN_ENVIRONMENT = 'plan';

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
  /** Also create the `plan` environment (exactly one stack of the system may). @default false */
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
 * - `plan` (one per system): read-only credentials for pull-request plans and drift checks; no
 *   branch policy because pull requests run from their own branches, and no reviewers because
 *   nothing here can change infrastructure. Fork pull requests get no secrets at all.
 * The stack holding these (`<env>-network`) is applied through `<env>-platform` itself, so its
 * first apply is the bootstrap from a workstation (README, "Delivery pipeline").
 */
export class PipelineEnvironments extends Construct {
  /** `<env>-platform`. */
  public readonly platform: DeploymentEnvironment;
  /** `plan`, when this construct owns it. */
  public readonly plan?: DeploymentEnvironment;

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
      this.plan = new DeploymentEnvironment(this, 'plan', { repository: props.repository, name: PLAN_ENVIRONMENT, deployBranches: 'all' });
    }
  }
}
