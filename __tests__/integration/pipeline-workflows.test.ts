/**
 * Issue 16: the GitHub Actions workflows, checked as a security reviewer would read them.
 *
 * - A real validator (@action-validator/cli, the JSON schemas of GitHub workflows and actions
 *   compiled to WebAssembly, installed by npm ci, no network) accepts every file.
 * - Parsed with `yaml`: which job holds which secret and permission, every `environment:` is
 *   one the synthesized stacks create (and protect), every job has a timeout, the apply has a
 *   manual trigger and applies saved plans only, the drift check is scheduled.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { manacore } from '../../environments';
import { DRIFT_ISSUE_MARKER, DRIFT_ISSUE_TITLE } from '../../scripts/pipeline/drift';
import { renderEnvExample } from '../../scripts/pipeline/env-example';
import { PLAN_COMMENT_MARKER } from '../../scripts/plan-comment/render';
import { DEPLOY_STAGES } from '../../scripts/plan-comment/stack-order';
import { resourceList, SynthesizedSystem } from '../helpers/synth';

const ROOT = path.join(__dirname, '..', '..');
const WORKFLOW_DIR = path.join(ROOT, '.github', 'workflows');
const ACTION_FILES = fs.readdirSync(path.join(ROOT, '.github', 'actions')).map((name) => path.join(ROOT, '.github', 'actions', name, 'action.yml'));
const WORKFLOW_FILES = fs.readdirSync(WORKFLOW_DIR).filter((name) => name.endsWith('.yml')).map((name) => path.join(WORKFLOW_DIR, name));

type Job = Record<string, any>;
interface Workflow {
  readonly file: string;
  readonly on: Record<string, any>;
  readonly jobs: Record<string, Job>;
  readonly raw: Record<string, any>;
}

function load(file: string): Workflow {
  const raw = parse(fs.readFileSync(file, 'utf8'));
  // YAML 1.1 readers turn the key `on` into `true`; the `yaml` package (1.2) keeps it.
  return { file: path.basename(file), on: raw.on, jobs: raw.jobs, raw };
}

const workflows = WORKFLOW_FILES.map(load);
const workflow = (name: string) => workflows.find((w) => w.file === name)!;

/** Every `secrets.NAME` a value mentions (env, with, run, if: anywhere). */
function secretsIn(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...new Set([...text.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]))].sort();
}

/** Credentials that can only read or plan (README, "Delivery pipeline"). */
const READ_ONLY_SECRETS = ['CLOUDFLARE_READ_TOKEN', 'GITHUB_READ_TOKEN', 'HCLOUD_READ_TOKEN', 'TF_PLAN_TOKEN'];
/** Credentials that can change infrastructure. */
const WRITE_SECRETS = ['DEPLOY_SSH_KEY', 'TF_API_TOKEN', 'CLOUDFLARE_PURGE_TOKEN', 'HCLOUD_TOKEN', 'CLOUDFLARE_API_TOKEN', 'INFRA_GITHUB_TOKEN', 'TF_TOKEN_app_terraform_io'];

/** The environment a job runs in, with `${{ inputs.x }}` resolved from each caller of a reusable workflow. */
function environmentsOf(w: Workflow, job: Job): string[] {
  const env = typeof job.environment === 'object' && job.environment !== null ? job.environment.name : job.environment;
  if (env === undefined) return [];
  const input = /^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(String(env));
  if (input === null) {
    if (String(env).includes('${{')) throw new Error(`${w.file}: environment ${env} is an expression the tests cannot resolve; name it literally or through a workflow_call input`);
    return [String(env)];
  }
  const callers = workflows.flatMap((caller) =>
    Object.values(caller.jobs).filter((callerJob) => callerJob.uses === `./.github/workflows/${w.file}`).map((callerJob) => callerJob.with?.[input[1]]),
  );
  if (callers.length === 0 || callers.some((value) => typeof value !== 'string' || value.includes('${{'))) {
    throw new Error(`${w.file}: environment comes from input ${input[1]}, which not every caller sets literally`);
  }
  return callers;
}

const allJobs = workflows.flatMap((w) => Object.entries(w.jobs).map(([id, job]) => ({ w, id, job })));

describe('a real workflow validator', () => {
  // @action-validator/core: GitHub's workflow and action JSON schemas (SchemaStore), compiled to
  // WebAssembly; @action-validator/cli is its command line. Loaded once, in this process.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const validator = require('@action-validator/core') as { validateWorkflow(src: string): { errors: unknown[] }; validateAction(src: string): { errors: unknown[] } };
  const cli = path.join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs');

  it.each([...WORKFLOW_FILES, ...ACTION_FILES].map((file) => [path.relative(ROOT, file)]))('accepts %s', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const result = file.endsWith('action.yml') ? validator.validateAction(text) : validator.validateWorkflow(text);
    expect(result.errors).toEqual([]);
  });

  it('rejects a broken workflow (so the checks above mean something), through the installed command too', () => {
    const source = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: soon\n    steps:\n      - run: echo\n';
    expect(JSON.stringify(validator.validateWorkflow(source).errors)).toContain('/jobs/a/timeout-minutes');
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wf-')), 'broken.yml');
    fs.writeFileSync(broken, source);
    const failed = spawnSync(process.execPath, [cli, broken], { encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('/jobs/a/timeout-minutes');
    const passed = spawnSync(process.execPath, [cli, path.join(WORKFLOW_DIR, 'apply.yml')], { encoding: 'utf8' });
    expect([passed.status, passed.stderr]).toEqual([0, '']);
  });
});

describe('credentials by privilege', () => {
  it('the pull request\'s own workflow holds no secret; the trusted half runs from main on its completion', () => {
    const pr = workflow('plan.yml');
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    expect(secretsIn(pr.raw)).toEqual([]);
    for (const job of Object.values(pr.jobs)) expect(job.environment).toBeUndefined();
    const trusted = workflow('pr-plan.yml');
    expect(trusted.on).toEqual({ workflow_run: { workflows: [pr.raw.name], types: ['completed'] } });
    for (const [id, job] of Object.entries(trusted.jobs)) {
      const secrets = secretsIn(job);
      expect(secrets.filter((s) => !READ_ONLY_SECRETS.includes(s))).toEqual([]);
      if (secrets.length > 0) expect(id).toMatch(/^plan/);
    }
    expect(secretsIn(workflow('pr-plan-stacks.yml').jobs.plan)).toEqual(READ_ONLY_SECRETS);
  });

  it('no workflow runs pull_request_target or gives fork pull requests a secret', () => {
    for (const w of workflows) expect(Object.keys(w.on ?? {})).not.toContain('pull_request_target');
    const gate = workflow('pr-plan.yml').jobs.gate;
    expect(gate.if).toContain('github.event.workflow_run.head_repository.full_name == github.repository');
    expect(gate.if).toContain("github.event.workflow_run.conclusion == 'success'");
    // Everything else needs the gate; the comment runs only after the gate ran.
    for (const [id, job] of Object.entries(workflow('pr-plan.yml').jobs)) if (id !== 'gate') expect([job.needs].flat()).toContain('gate');
    expect(workflow('pr-plan.yml').jobs.comment.if).toMatch(/needs\.gate\.result == 'success' \|\| needs\.gate\.result == 'failure'/);
  });

  it('the gate and every job after it run the base commit\'s code: checkout of the base sha from the event, the pull request only as an artifact', () => {
    const trusted = workflow('pr-plan.yml');
    expect(trusted.raw.env.BASE_SHA).toBe('${{ github.event.workflow_run.pull_requests[0].base.sha }}');
    const checkouts = [
      ...Object.values(trusted.jobs).flatMap((job) => (job.steps ?? []).filter((step: any) => step.uses?.startsWith('actions/checkout'))),
      ...(workflow('pr-plan-stacks.yml').jobs.plan.steps as any[]).filter((step) => step.uses?.startsWith('actions/checkout')),
    ];
    expect(checkouts.map((step) => step.with.ref)).toEqual(['${{ env.BASE_SHA }}', '${{ env.BASE_SHA }}', '${{ inputs.base-sha }}']);
    for (const step of checkouts) expect(step.with['persist-credentials']).toBe(false);
    for (const job of ['plan', 'plan-data']) expect(trusted.jobs[job].with['base-sha']).toBe(trusted.raw.env.BASE_SHA);
    // Nothing in the trusted half names the pull request's head commit or branch as code to check out.
    expect(JSON.stringify(trusted.raw) + JSON.stringify(workflow('pr-plan-stacks.yml').raw)).not.toMatch(/head_sha|head\.sha/);
    const gateRun = (trusted.jobs.gate.steps as any[]).map((step) => step.run ?? '').join('\n');
    expect(gateRun).toContain('npx tsx scripts/pr-gate/cli.ts check cdktf.out "$RUNNER_TEMP/head" gated');
    // The plan reads only the gated copy and its lock files from the base's lock.
    expect(gateRun).toContain('stack-locks gated terraform/providers.lock.hcl');
    expect(JSON.stringify(workflow('pr-plan-stacks.yml').jobs.plan.steps)).toContain('bash scripts/pr-gate/plan-stack.sh \\"$STACK\\" gated');
    expect(JSON.stringify(workflow('pr-plan-stacks.yml').jobs.plan.steps)).not.toContain('synth-head');
  });

  it('data and credentials stacks are planned in plan-data (required reviewers), the rest in plan', () => {
    const trusted = workflow('pr-plan.yml');
    expect(trusted.jobs.plan.with.environment).toBe('plan');
    expect(trusted.jobs['plan-data'].with.environment).toBe('plan-data');
    expect(trusted.jobs.plan.with.stacks).toBe('${{ needs.gate.outputs.stacks }}');
    expect(trusted.jobs['plan-data'].with.stacks).toBe('${{ needs.gate.outputs.sensitive }}');
  });

  it('every plan job (pull request, apply stage, drift) holds read-only secrets in the plan environment', () => {
    const planJobs = [workflow('pr-plan-stacks.yml').jobs.plan, workflow('deploy-stage.yml').jobs.plan, workflow('drift.yml').jobs.check];
    expect(environmentsOf(workflow('pr-plan-stacks.yml'), workflow('pr-plan-stacks.yml').jobs.plan).sort()).toEqual(['plan', 'plan-data']);
    for (const job of planJobs.slice(1)) expect(job.environment).toBe('plan');
    for (const job of planJobs) {
      expect(secretsIn(job).filter((s) => !READ_ONLY_SECRETS.includes(s))).toEqual([]);
      expect(Object.values(job.permissions ?? {})).not.toContain('write');
    }
  });

  it('write credentials appear only in jobs of a protected deployment environment, never next to write permissions', () => {
    const holders = allJobs.filter(({ job }) => secretsIn(job).some((s) => !READ_ONLY_SECRETS.includes(s)));
    expect(holders.map(({ w, id }) => `${w.file}:${id}`)).toEqual(['deploy-stage.yml:apply', 'release-window.yml:staging', 'release-window.yml:production']);
    const apply = workflow('deploy-stage.yml').jobs.apply;
    expect(apply.environment).toBe('${{ inputs.deploy-environment }}');
    expect(secretsIn(apply)).toEqual(['CLOUDFLARE_PURGE_TOKEN', 'DEPLOY_SSH_KEY', 'TF_API_TOKEN']);
    // The scheduled window close: the deploy key and the apply token (to read host addresses), in the platform environment.
    for (const environment of ['staging', 'production']) {
      const job = workflow('release-window.yml').jobs[environment];
      expect([job.environment, secretsIn(job), job.permissions]).toEqual([`${environment}-platform`, ['DEPLOY_SSH_KEY', 'TF_API_TOKEN'], { contents: 'read' }]);
    }
    expect(apply.permissions).toEqual({ contents: 'read' });
    // The job that writes refs holds no environment and no secret.
    const record = workflow('deploy-stage.yml').jobs.record;
    expect(record.environment).toBeUndefined();
    expect(secretsIn(record)).toEqual([]);
    // No secret is a repository secret any more: every one is read in a job with an environment.
    for (const { w, id, job } of allJobs) if (secretsIn(job).length > 0) expect([w.file, id, job.environment]).toEqual([w.file, id, expect.any(String)]);
    expect(WRITE_SECRETS.filter((s) => allJobs.some(({ job }) => secretsIn(job).includes(s)))).toEqual(['DEPLOY_SSH_KEY', 'TF_API_TOKEN', 'CLOUDFLARE_PURGE_TOKEN']);
  });

  it('only the comment job writes pull requests, only the drift report writes issues', () => {
    const writers = allJobs.flatMap(({ w, id, job }) =>
      Object.entries(job.permissions ?? {}).filter(([, level]) => level === 'write').map(([scope]) => `${w.file}:${id}:${scope}`),
    );
    expect(writers.sort()).toEqual([
      // apply.yml passes contents: write down to deploy-stage.yml, whose record job alone uses it.
      ...['staging', 'production'].flatMap((env) => DEPLOY_STAGES.map((stage) => `apply.yml:${env}-${stage}:contents`)),
      'deploy-stage.yml:record:contents',
      // The tags commit after the release steps (.github/actions/commit-slots): after a stage's, and after the window close.
      'deploy-stage.yml:commit-slots:contents',
      'release-window.yml:commit-staging-slots:contents',
      'release-window.yml:commit-production-slots:contents',
      // The release flow's record jobs push one tags commit to main; their stage callers pass contents: write down as apply.yml does.
      ...['release.yml:record', 'release.yml:staging', 'promote.yml:record', 'promote.yml:production', 'rollback.yml:record', 'rollback.yml:staging', 'rollback.yml:production'].map((job) => `${job}:contents`),
      'drift.yml:report:issues',
      'pr-plan.yml:comment:pull-requests',
    ].sort());
    for (const w of workflows) expect(w.raw.permissions).toEqual({ contents: 'read' });
  });
});

/** One synth of Manacore for this file (each stack synthesized at most once). */
const app = new SynthesizedSystem(manacore);

describe('every environment named by a workflow exists in code, protected', () => {
  const created = new Map<string, { stack: string; resource: any; policies: any[] }>();
  for (const stack of app.stackNames) {
    const json = app.synth(stack);
    for (const resource of resourceList(json, 'github_repository_environment')) {
      expect(created.has(resource.environment)).toBe(false);
      created.set(resource.environment, { stack, resource, policies: resourceList(json, 'github_repository_environment_deployment_policy') });
    }
  }
  const used = new Set(allJobs.flatMap(({ w, job }) => environmentsOf(w, job)));

  it('names only environments the stacks create', () => {
    expect([...used].sort()).toEqual(['plan', 'plan-data', 'production-platform', 'staging-platform']);
    for (const name of used) expect([name, created.has(name)]).toEqual([name, true]);
  });

  it('creates the deployment environments in the network stack, which applies first, with main-only and reviewers in production', () => {
    const production = created.get('production-platform')!;
    expect(production.stack).toBe('production-network');
    expect(production.resource.reviewers).toHaveLength(1);
    expect(production.resource.reviewers[0].teams).toHaveLength(1);
    expect(production.resource).toMatchObject({ prevent_self_review: true, can_admins_bypass: false, deployment_branch_policy: { custom_branch_policies: true, protected_branches: false } });
    expect(production.policies.filter((p) => p.environment.includes('platform')).map((p) => p.branch_pattern)).toEqual(['main']);
    const staging = created.get('staging-platform')!;
    expect(staging.stack).toBe('staging-network');
    expect(staging.resource.deployment_branch_policy).toEqual({ custom_branch_policies: true, protected_branches: false });
    expect(staging.policies.map((p) => p.branch_pattern)).toEqual(['main']);
  });

  it('creates the plan environments once, main only (no workflow a branch writes gets their secrets), plan-data with reviewers, without secrets set by code', () => {
    const plan = created.get('plan')!;
    expect(plan.stack).toBe('production-network');
    expect(plan.resource.deployment_branch_policy).toEqual({ custom_branch_policies: true, protected_branches: false });
    expect(plan.policies.filter((p) => p.environment.includes('plan')).map((p) => p.branch_pattern)).toEqual(['main', 'main']);
    expect(plan.resource.reviewers).toBeUndefined();
    const data = created.get('plan-data')!;
    expect(data.stack).toBe('production-network');
    expect(data.resource.reviewers).toHaveLength(1);
    expect(data.resource).toMatchObject({ prevent_self_review: true, can_admins_bypass: false });
    expect(resourceList(app.synth('production-network'), 'github_actions_environment_secret')).toEqual([]);
  });

  it('checks before every stage that the deploy environment exists and is protected', () => {
    const select = workflow('deploy-stage.yml').jobs.select;
    const script = select.steps[0].with.script as string;
    expect(script).toContain('getEnvironment');
    expect(script).toContain("'required_reviewers'");
    expect(script).toContain('custom_branch_policies');
    expect(workflow('deploy-stage.yml').jobs.plan.needs).toBe('select');
  });
});

describe('nothing skipped, exactly the reviewed plan', () => {
  const apply = workflow('apply.yml');
  const stage = workflow('deploy-stage.yml');
  const runText = (w: Workflow) => Object.values(w.jobs).flatMap((job) => (job.steps ?? []).map((step: any) => String(step.run ?? ''))).join('\n');

  it('apply runs on pushes to main and by hand, for one stack or all', () => {
    expect(apply.on.push).toEqual({ branches: ['main'] });
    expect(apply.on.workflow_dispatch.inputs.stacks).toMatchObject({ type: 'string', required: false });
    expect(apply.raw.concurrency).toEqual({ group: 'apply-main', 'cancel-in-progress': false });
  });

  it('compares with refs/applied/<stack>, never with the commit before the push', () => {
    for (const w of workflows) expect(JSON.stringify(w.raw)).not.toContain('github.event.before');
    expect(runText(stage)).toContain("refs/applied/*:refs/applied/*");
    expect(runText(stage)).toContain('scripts/pipeline/cli.ts select');
    expect(stage.jobs.record.if).toContain('always()');
  });

  it('rolls out staging before production, one job per stage of stack-order.ts, credentials before data', () => {
    const order = ['staging', 'production'].flatMap((env) => DEPLOY_STAGES.map((stage) => `${env}-${stage}`));
    expect(order.slice(0, 5)).toEqual(['staging-network', 'staging-edge', 'staging-credentials', 'staging-data', 'staging-products']);
    order.forEach((id, index) => {
      expect(apply.jobs[id].uses).toBe('./.github/workflows/deploy-stage.yml');
      expect(apply.jobs[id].with.kinds).toBe(id.slice(id.indexOf('-') + 1));
      expect(apply.jobs[id].needs).toBe(index === 0 ? 'synth' : order[index - 1]);
      expect(apply.jobs[id].with['deploy-environment']).toBe(`${id.split('-')[0]}-platform`);
      // Without it a called job's environment secrets resolve empty (actions/runner#1490).
      expect(apply.jobs[id].secrets).toBe('inherit');
    });
  });

  it("asks Terraform Cloud for a saved plan's text, never its unredacted JSON (workspace admin only)", () => {
    const text = stage.jobs.plan.steps.map((step: any) => String(step.run ?? '')).join('\n');
    expect(text).toMatch(/if jq -e '\.terraform\.cloud' "\$dir\/cdk\.tf\.json" > \/dev\/null; then\n(?:\s*#.*\n)*\s*terraform -chdir="\$dir" show -no-color tfplan > "plans\/\$STACK\.plan\.txt"\n\s*render_args=\(--text-plans plans\)\n\s*else\n\s*terraform -chdir="\$dir" show -json tfplan/);
    expect(text.match(/show -json/g)).toHaveLength(1);
  });

  it("never reads a credentials stack's outputs: both digests come from its configuration instead", () => {
    for (const job of ['plan', 'apply']) {
      const text = stage.jobs[job].steps.map((step: any) => String(step.run ?? '')).join('\n');
      const outputReads = text.split('\n').filter((line: string) => line.includes('output -json'));
      expect(outputReads.length).toBeGreaterThan(0);
      // Each `terraform output -json` sits in the branch taken only when outputs-readable said yes.
      expect(text).toMatch(/readable="\$\(npx tsx scripts\/pipeline\/cli\.ts outputs-readable "\$STACK"\)"\n\s*if \[ "\$readable" = yes \]; then\n\s*terraform -chdir="\$dir" output -json/);
      expect(text).toContain('config-digest cdktf.out "$STACK"');
      expect(text.match(/output -json/g)!.length).toBe(text.match(/outputs-readable/g)!.length);
    }
  });

  it('applies the saved plan of the same run, refuses a stale one, never -auto-approve', () => {
    for (const w of workflows) expect(runText(w)).not.toContain('-auto-approve');
    const applyRun = stage.jobs.apply.steps.map((step: any) => String(step.run ?? '')).join('\n');
    expect(applyRun).toMatch(/terraform -chdir="\$dir" apply -input=false tfplan/);
    expect(applyRun).toContain('jq -r .commit');
    expect(applyRun).toContain('jq -r .planSha256');
    expect(applyRun).toContain('jq -r .appliedRef');
    expect(runText(stage)).toMatch(/plan -input=false -no-color -out=tfplan/);
  });
});

describe('drift, speed and hygiene', () => {
  it('a scheduled drift workflow plans every stack with -detailed-exitcode and keeps one issue', () => {
    const drift = workflow('drift.yml');
    expect(drift.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \*$/) }]);
    expect(JSON.stringify(drift.jobs.check)).toContain('-detailed-exitcode');
    const env = drift.jobs.report.steps.find((step: any) => step.uses?.startsWith('actions/github-script')).env;
    expect(env).toMatchObject({ TITLE: DRIFT_ISSUE_TITLE, MARKER: DRIFT_ISSUE_MARKER });
    expect(workflow('pr-plan.yml').jobs.comment.steps.find((step: any) => step.uses?.startsWith('actions/github-script')).env.MARKER).toBe(PLAN_COMMENT_MARKER);
  });

  it('every job that runs steps has a timeout', () => {
    const missing = allJobs.filter(({ job }) => job.steps !== undefined && !(Number.isInteger(job['timeout-minutes']) && job['timeout-minutes'] > 0));
    expect(missing.map(({ w, id }) => `${w.file}:${id}`)).toEqual([]);
  });

  it('installs providers only from the pinned lock files, through the shared plugin cache', () => {
    const texts = [...WORKFLOW_FILES, ...ACTION_FILES, path.join(ROOT, 'scripts/pr-gate/plan-stack.sh')].map((file) => fs.readFileSync(file, 'utf8'));
    const inits = texts.flatMap((text) => text.match(/terraform [^\n]*\binit\b[^\n]*/g) ?? []);
    expect(inits.length).toBeGreaterThanOrEqual(5);
    for (const init of inits) expect(init).toContain('-lockfile=readonly');
    const terraformJobs = allJobs.filter(({ job }) => /terraform -chdir|plan-stack\.sh/.test(JSON.stringify(job.steps ?? [])));
    expect(terraformJobs.map(({ w }) => w.file)).toContain('pr-plan-stacks.yml');
    for (const { job } of terraformJobs) expect((job.steps as any[]).some((step) => step.uses === './.github/actions/terraform')).toBe(true);
    const action = parse(fs.readFileSync(path.join(ROOT, '.github/actions/terraform/action.yml'), 'utf8'));
    expect(JSON.stringify(action)).toContain("hashFiles('terraform/providers.lock.hcl')");
    // The lock files start with a dot: artifacts must keep hidden files.
    for (const { job } of allJobs) {
      for (const step of job.steps ?? []) if (step.uses?.startsWith('actions/upload-artifact') && step.with.path === 'cdktf.out') expect(step.with['include-hidden-files']).toBe(true);
    }
  });
});

describe('set-up documented', () => {
  it('.env.example is what the stacks declare (stale: run npm run generate)', () => {
    const stacks = new Map(app.stackNames.map((name) => [name, app.synth(name) as unknown]));
    expect(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')).toBe(renderEnvExample(stacks));
  });

  it('the README lists every secret and variable the workflows read', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Delivery pipeline'));
    expect(section.length).toBeGreaterThan(100);
    const names = new Set(allJobs.flatMap(({ job }) => secretsIn(job)));
    for (const w of workflows) for (const m of JSON.stringify(w.raw).matchAll(/vars\.([A-Za-z0-9_]+)/g)) names.add(m[1]);
    expect(names.size).toBeGreaterThanOrEqual(7);
    for (const name of names) expect([name, section.includes(`\`${name}\``)]).toEqual([name, true]);
  });
});

describe('release steps (issue 35): after the apply, and the scheduled window close', () => {
  const stepNames = (job: Job): string[] => job.steps.map((step: Job) => step.name ?? step.uses ?? step.run);

  it('runs `release run` for each applied product stack, after the apply, with the deploy key of the same environment', () => {
    const apply = workflow('deploy-stage.yml').jobs.apply;
    const names = stepNames(apply);
    const applied = names.indexOf('terraform apply <saved plan>');
    const released = names.findIndex((name: string) => name.startsWith('Release steps'));
    expect(released).toBeGreaterThan(applied);
    const step = apply.steps[released];
    expect(step.if).toBe("inputs.kinds == 'products'");
    expect(step.run).toContain('npx tsx scripts/release/cli.ts run "$ENVIRONMENT" "$product" $RELEASE_HOST_OPTIONS');
    const access = apply.steps.findIndex((candidate: Job) => candidate.uses === './.github/actions/release-access');
    expect(apply.steps[access]).toMatchObject({ uses: './.github/actions/release-access', with: { 'ssh-key': '${{ secrets.DEPLOY_SSH_KEY }}' } });
    expect(access).toBeLessThan(applied);
  });

  it('refuses to apply a product stack from a tags file behind the hosts (a tags commit that failed), before terraform apply', () => {
    const apply = workflow('deploy-stage.yml').jobs.apply;
    const names = stepNames(apply);
    const check = names.findIndex((name) => name.startsWith('Refuse a tags file behind'));
    expect([check > apply.steps.findIndex((candidate: Job) => candidate.uses === './.github/actions/release-access'), check < names.indexOf('terraform apply <saved plan>')]).toEqual([true, true]);
    expect(apply.steps[check].if).toBe("inputs.kinds == 'products'");
    expect(apply.steps[check].run).toContain('npx tsx scripts/release/cli.ts check-slots "$ENVIRONMENT" "${STACK#"$ENVIRONMENT"-}" $RELEASE_HOST_OPTIONS');
  });

  it('reads the slots after every release step that ran (a failed one too), and a job without credentials commits them', () => {
    const stage = workflow('deploy-stage.yml');
    const names = stepNames(stage.jobs.apply);
    const read = names.findIndex((name) => name.startsWith('Read the slots'));
    expect(read).toBeGreaterThan(names.findIndex((name) => name.startsWith('Release steps')));
    const ran = "always() && (steps.release.outcome == 'success' || steps.release.outcome == 'failure')";
    expect(stage.jobs.apply.steps[read]).toMatchObject({ if: ran, run: expect.stringContaining('record-slots "$ENVIRONMENT" "$product" --save "slots/$product.json" $RELEASE_HOST_OPTIONS') });
    expect(stage.jobs.apply.steps[read + 1]).toMatchObject({ if: ran, uses: 'actions/upload-artifact@v4', with: { name: 'slots-${{ matrix.stack }}', path: 'slots/' } });
    const commit = stage.jobs['commit-slots'];
    expect(commit).toMatchObject({ needs: 'apply', if: "always() && inputs.kinds == 'products' && needs.apply.result != 'skipped'", permissions: { contents: 'write' } });
    expect([commit.environment, secretsIn(commit), commit.concurrency]).toEqual([undefined, [], undefined]);
    expect(commit.steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { ref: 'main' } });
    expect(commit.steps.at(-1)).toEqual({ uses: './.github/actions/commit-slots', with: { environment: '${{ inputs.environment }}', slots: '${{ runner.temp }}/slots' } });
  });

  it('the commit: exactly the tags file, [skip ci], through commit-tags.sh and record-slots --from; a failure names what to do', () => {
    const action = parse(fs.readFileSync(path.join(ROOT, '.github', 'actions', 'commit-slots', 'action.yml'), 'utf8'));
    const script: string = action.runs.steps[0].run;
    expect(script).toContain('scripts/release/commit-tags.sh "environments/tags/$ENVIRONMENT.json" "record release slots $ENVIRONMENT $products [skip ci]"');
    expect(script).toContain('record-slots "$0" "$(basename "$file" .json)" --from "$file"');
    expect(script).toMatch(/::error::\$message/);
    expect(script).toContain('until then every apply of these product stacks is refused (check-slots)');
  });

  it('closes rollback windows on a schedule in each environment, through its platform environment, and commits the slots after', () => {
    const window = workflow('release-window.yml');
    expect(window.on.schedule[0].cron).toMatch(/^\S+ \* \* \* \*$/);
    for (const environment of ['staging', 'production']) {
      const job = window.jobs[environment];
      expect(job.environment).toBe(`${environment}-platform`);
      const names = stepNames(job);
      const close = names.indexOf('close-window');
      expect(job.steps[close].run).toBe(`npx tsx scripts/release/cli.ts close-window ${environment} $RELEASE_HOST_OPTIONS`);
      expect(job.steps[close + 1]).toMatchObject({ if: 'always()', run: expect.stringContaining(`record-slots ${environment} "$product" --save "slots/$product.json" $RELEASE_HOST_OPTIONS`) });
      expect(job.steps[close + 2]).toMatchObject({ uses: 'actions/upload-artifact@v4', with: { name: `slots-${environment}` } });
      const commit = window.jobs[`commit-${environment}-slots`];
      expect(commit).toMatchObject({ needs: environment, permissions: { contents: 'write' } });
      expect([commit.environment, secretsIn(commit)]).toEqual([undefined, []]);
      expect(commit.steps.at(-1)).toEqual({ uses: './.github/actions/commit-slots', with: { environment, slots: '${{ runner.temp }}/slots' } });
    }
  });
});

describe('release flow (issue 19): release, promote, rollback', () => {
  const release = workflow('release.yml');
  const promote = workflow('promote.yml');
  const rollback = workflow('rollback.yml');
  const stage = workflow('deploy-stage.yml');
  const runs = (w: Workflow) => Object.values(w.jobs).flatMap((job) => (job.steps ?? []).map((step: any) => String(step.run ?? '')));

  it('the real validator accepts each through the installed command too', () => {
    const cli = path.join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs');
    for (const file of ['release.yml', 'promote.yml', 'rollback.yml', 'deploy-stage.yml']) {
      const result = spawnSync(process.execPath, [cli, path.join(WORKFLOW_DIR, file)], { encoding: 'utf8' });
      expect([file, result.status, result.stderr]).toEqual([file, 0, '']);
    }
  });

  it('release: dispatched with product, service and tag, by an allowed actor, one product at a time', () => {
    expect(Object.keys(release.on).sort()).toEqual(['repository_dispatch', 'workflow_dispatch']);
    expect(release.on.repository_dispatch).toEqual({ types: ['release'] });
    const inputs = release.on.workflow_dispatch.inputs;
    expect(Object.fromEntries(Object.entries(inputs).map(([name, input]: [string, any]) => [name, input.required]))).toEqual({ product: true, service: false, tag: true });
    expect(release.raw.concurrency).toEqual({ group: 'staging-release-${{ inputs.product || github.event.client_payload.product }}', 'cancel-in-progress': false });
    // The caller check comes first, before checkout or anything else runs.
    const first = release.jobs.record.steps[0];
    expect(first.env).toEqual({ ACTOR: '${{ github.actor }}', RELEASE_ACTORS: '${{ vars.RELEASE_ACTORS }}' });
    expect(first.run).toContain('exit 1');
    // Both triggers feed the same variables.
    expect(release.jobs.record.env).toEqual({
      PRODUCT: '${{ inputs.product || github.event.client_payload.product }}',
      SERVICE: '${{ inputs.service || github.event.client_payload.service }}',
      TAG: '${{ inputs.tag || github.event.client_payload.tag }}',
    });
  });

  it('release applies exactly staging-<product> at the commit it pushed, through the existing stage', () => {
    expect(release.jobs.staging).toMatchObject({
      needs: ['record', 'synth'],
      uses: './.github/workflows/deploy-stage.yml',
      with: { environment: 'staging', kinds: 'products', 'deploy-environment': 'staging-platform', requested: '${{ needs.record.outputs.stack }}', commit: '${{ needs.record.outputs.commit }}' },
      secrets: 'inherit',
    });
    expect(JSON.stringify(release.jobs.record.steps)).toContain('echo \\"stack=staging-$PRODUCT\\"');
    expect(Object.keys(release.jobs).sort()).toEqual(['record', 'staging', 'synth']);
    expect(JSON.stringify(release.raw)).not.toContain('production');
  });

  it('promote: by hand only, into production through production-platform, from refs/applied/staging-<product>', () => {
    expect(Object.keys(promote.on)).toEqual(['workflow_dispatch']);
    expect(promote.raw.concurrency).toEqual({ group: 'production-release-${{ inputs.product }}', 'cancel-in-progress': false });
    expect(promote.jobs.production).toMatchObject({
      uses: './.github/workflows/deploy-stage.yml',
      with: { environment: 'production', kinds: 'products', 'deploy-environment': 'production-platform', requested: 'production-${{ inputs.product }}', commit: '${{ needs.record.outputs.commit }}' },
    });
    const script = runs(promote).join('\n');
    expect(script).toContain("git fetch --no-tags origin '+refs/applied/*:refs/applied/*'");
    expect(script).toContain('scripts/release/cli.ts "${args[@]}"');
    expect(script).toContain('args=(promote "$target")');
  });

  it('rollback: by hand, per environment, previous tag from history, that product\'s stack only', () => {
    expect(rollback.on.workflow_dispatch.inputs.environment).toMatchObject({ type: 'choice', options: ['staging', 'production'], required: true });
    expect(rollback.on.workflow_dispatch.inputs.tag.required).toBe(false);
    expect(rollback.jobs.record.steps[0].with['fetch-depth']).toBe(0);
    expect(runs(rollback).join('\n')).toContain('scripts/ops/cli.ts "${args[@]}"');
    for (const env of ['staging', 'production']) {
      expect(rollback.jobs[env]).toMatchObject({
        if: `inputs.environment == '${env}'`,
        with: { environment: env, kinds: 'products', 'deploy-environment': `${env}-platform`, requested: `${env}-\${{ inputs.product }}` },
      });
    }
    // Shares the group of release.yml (staging) and promote.yml (production) for the same product.
    expect(rollback.raw.concurrency.group).toBe('${{ inputs.environment }}-release-${{ inputs.product }}');
  });

  it('their own jobs hold no secret and no environment; only the stage they call has credentials', () => {
    for (const w of [release, promote, rollback]) {
      for (const [id, job] of Object.entries(w.jobs)) {
        expect([w.file, id, secretsIn(job.steps ?? [])]).toEqual([w.file, id, []]);
        expect([w.file, id, job.environment]).toEqual([w.file, id, undefined]);
        if (job.uses === undefined) expect([w.file, id, Object.keys(job.permissions ?? {}).filter((scope) => job.permissions[scope] === 'write')]).toEqual([w.file, id, id === 'record' ? ['contents'] : []]);
      }
      // Dispatch inputs reach the shell through env only, never pasted into a script (script injection).
      for (const script of runs(w)) expect([w.file, script.includes('${{')]).toEqual([w.file, false]);
    }
  });

  it('every stage plans, applies and records the commit it was given, and refuses placeholders in plan and apply', () => {
    expect(stage.on.workflow_call.inputs.commit).toMatchObject({ type: 'string', required: false, default: '' });
    expect(stage.raw.env.DEPLOY_COMMIT).toBe('${{ inputs.commit || github.sha }}');
    expect(JSON.stringify(stage.raw)).not.toContain('GITHUB_SHA');
    for (const [id, job] of Object.entries(stage.jobs)) {
      // The slots commit goes onto the newest main (commit-tags.sh checks it out again on each attempt).
      const expected = id === 'commit-slots' ? 'main' : '${{ inputs.commit || github.sha }}';
      for (const step of job.steps ?? []) if (step.uses === 'actions/checkout@v4') expect([id, step.with.ref]).toEqual([id, expected]);
    }
    for (const id of ['plan', 'apply']) {
      const steps = stage.jobs[id].steps.map((step: any) => String(step.run ?? step.uses ?? ''));
      const check = steps.findIndex((text: string) => text.includes('scripts/release/cli.ts check-placeholders cdktf.out "$STACK"'));
      const terraform = steps.findIndex((text: string) => /terraform -chdir="\$dir" (plan|apply)/.test(text));
      expect([id, check >= 0, check < terraform]).toEqual([id, true, true]);
    }
  });
});

describe('commit-tags.sh: concurrent releases of different products neither block nor overwrite each other', () => {
  const script = path.join(ROOT, 'scripts', 'release', 'commit-tags.sh');
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const git = (cwd: string, ...args: string[]) => {
    const result = spawnSync('git', args, { cwd, encoding: 'utf8', env: gitEnv });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  /** A command that sets one product's tag in the file the way the release CLI does (one line per product). */
  const TAGS = 'environments/tags/staging.json';
  const setTag = (product: string, tag: string) => ['node', '-e', `const f='${TAGS}';const fs=require('fs');const j=JSON.parse(fs.readFileSync(f));j.products['${product}'].imageTag='${tag}';fs.writeFileSync(f,JSON.stringify(j,null,2)+'\\n')`];

  it('the second push retries on the moved main and keeps the first product\'s tag; an unchanged tag commits nothing', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'commit-tags-'));
    const origin = path.join(base, 'origin.git');
    git(base, 'init', '-q', '--bare', '-b', 'main', origin);
    const seed = path.join(base, 'seed');
    git(base, 'clone', '-q', origin, seed);
    git(seed, 'checkout', '-q', '-b', 'main');
    fs.mkdirSync(path.join(seed, 'environments', 'tags'), { recursive: true });
    fs.writeFileSync(path.join(seed, TAGS), `${JSON.stringify({ products: { chat: { imageTag: 'main-0000000' }, news: { imageTag: 'main-0000000' } } }, null, 2)}\n`);
    git(seed, 'add', '.');
    git(seed, 'commit', '-q', '-m', 'seed');
    git(seed, 'push', '-q', 'origin', 'main');
    // Two runners check out main at the same commit.
    const chat = path.join(base, 'chat');
    const news = path.join(base, 'news');
    git(base, 'clone', '-q', origin, chat);
    git(base, 'clone', '-q', origin, news);
    const run = (cwd: string, message: string, command: string[]) => spawnSync('bash', [script, TAGS, message, '--', ...command], { cwd, encoding: 'utf8', env: gitEnv });

    // chat's release lands while news's run is between its fetch and its push: the first time news's
    // command runs it starts chat's whole release (fetch, commit, push) before writing its own tag.
    const raced = path.join(base, 'raced');
    const chatRelease = `bash ${script} ${TAGS} 'release staging chat main-4f2c9e1' -- ${setTag('chat', 'main-4f2c9e1').map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(' ')}`;
    const newsCommand = ['bash', '-c', `if [ ! -e ${raced} ]; then touch ${raced}; (cd ${chat} && ${chatRelease} > /dev/null); fi; "$@"`, 'race', ...setTag('news', 'main-5a5a5a5')];
    const second = run(news, 'release staging news main-5a5a5a5', newsCommand);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain(`attempt 1: main moved while committing ${TAGS}; starting again from the new main`);
    git(seed, 'fetch', '-q', 'origin');
    const final = JSON.parse(git(seed, 'show', `origin/main:${TAGS}`));
    expect(final.products).toEqual({ chat: { imageTag: 'main-4f2c9e1' }, news: { imageTag: 'main-5a5a5a5' } });
    expect(git(seed, 'log', '--format=%s', 'origin/main')).toBe('release staging news main-5a5a5a5\nrelease staging chat main-4f2c9e1\nseed');
    // Each run prints the commit it pushed: the one the stage applies.
    expect(second.stdout.trim()).toBe(git(seed, 'rev-parse', 'origin/main'));

    const again = run(news, 'release staging news main-5a5a5a5', setTag('news', 'main-5a5a5a5'));
    expect([again.status, again.stderr]).toEqual([0, expect.stringContaining('nothing to commit')]);
    expect(git(seed, 'log', '--format=%s', 'origin/main').split('\n')).toHaveLength(3);

    // A refused command (the CLI's bad input) pushes nothing.
    const refused = run(chat, 'release staging chat bad', ['node', '-e', 'process.exit(1)']);
    expect(refused.status).toBe(1);
    expect(git(seed, 'log', '--format=%s', 'origin/main').split('\n')).toHaveLength(3);

    // Exactly the tags file: a command that also changes another tracked file is refused, and so is
    // any path outside environments/tags/; nothing is pushed either time.
    git(seed, 'reset', '-q', '--hard', 'origin/main');
    fs.writeFileSync(path.join(seed, 'README.md'), 'readme\n');
    git(seed, 'add', 'README.md');
    git(seed, 'commit', '-q', '-m', 'readme');
    git(seed, 'push', '-q', 'origin', 'main');
    const widened = run(chat, 'record slots staging chat [skip ci]', ['bash', '-c', `echo more >> README.md; "$@"`, 'widen', ...setTag('chat', 'main-7b7b7b7')]);
    expect([widened.status, widened.stderr]).toEqual([1, expect.stringContaining(`refusing to commit: the command changed more than ${TAGS}:\nREADME.md`)]);
    const outside = spawnSync('bash', [script, 'README.md', 'edit readme', '--', 'true'], { cwd: chat, encoding: 'utf8', env: gitEnv });
    expect([outside.status, outside.stderr]).toEqual([2, expect.stringContaining('refusing to commit README.md: only a tags file')]);
    expect(git(seed, 'log', '--format=%s', 'origin/main').split('\n')).toHaveLength(4);
    // And what it does commit touches that file alone, with the message as given ([skip ci] kept).
    const slots = run(chat, 'record slots staging chat [skip ci]', setTag('chat', 'main-7b7b7b7'));
    expect(slots.status).toBe(0);
    git(seed, 'fetch', '-q', 'origin');
    expect(git(seed, 'show', '--format=%s', '--name-only', 'origin/main')).toBe(`record slots staging chat [skip ci]\n\n${TAGS}`);
  });
});
