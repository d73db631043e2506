/** What production forbids, whatever the other switches say. */
import { type EnvironmentSpec } from '../model';
import { Report } from './shared';

export function validateProtection(environment: EnvironmentSpec, report: Report): void {
  if (!environment.production) return;
  if (!environment.protection) {
    report({ field: 'protection', value: false, allowed: 'true in production', why: 'servers, volumes and buckets must survive a mistaken destroy' });
  }
  if (!environment.backups) {
    report({ field: 'backups', value: false, allowed: 'true in production' });
  }
  const github = environment.github ?? {};
  if ((github.reviewerTeams ?? []).length + (github.reviewerUsers ?? []).length === 0) {
    report({ field: 'github.reviewerTeams', value: [], allowed: 'at least one reviewer team or user in production', why: 'production deploys require approval' });
  }
  // `false` would synthesize the environments with no reviewers, no self-review guard and administrator bypass on.
  if (github.requireApproval === false) {
    report({
      field: 'github.requireApproval',
      value: false,
      allowed: 'true or unset in production',
      why: 'production deploys need a reviewer\'s approval, from main only, with no administrator bypass; requireApproval: false removes all three',
    });
  }
}
