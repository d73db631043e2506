/**
 * Moves each product's data passwords from the state of `<env>-data`, where they were generated before
 * the credentials stacks, into `<env>-<product>-credentials`, so the upgrade keeps them: nothing rotates
 * and no product loses its database between the data and the product applies.
 *
 *   npm run synth && npx tsx scripts/migrate/credentials.ts          # prints the moves
 *   npx tsx scripts/migrate/credentials.ts --apply                   # local state: runs them
 *
 * A move, not `terraform import`: random 3.7.2 imports a password with `special = true`
 * (resource_password.go, ImportState), which our `special = false` replaces with a new one.
 * With local state this runs `terraform state mv -state=<data> -state-out=<credentials>` (no provider
 * needed), and refuses a credentials state that already holds a new password. Under Terraform Cloud it
 * prints the same moves between pulled copies, a `state push` to each new workspace and the removal of
 * the copies, for an operator with state access; it cannot see those states, so it prints them every
 * time. Run it before the first apply of any credentials stack.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CREDENTIALS_PASSWORD_IDS } from '../../stacks/credentials-stack';
import type { DataDependency } from '../../system/model';
import { stateLocation } from '../deploy/preflight';
import { readSynthesizedApp, type SynthesizedApp, type SynthesizedStack } from '../lib/synthesized';

/** One password to move: from the data stack's old address to the credentials stack's. */
export interface PasswordMove {
  readonly dataStack: string;
  readonly credentialsStack: string;
  readonly from: string;
  readonly to: string;
}

/** Whose password each connection string carries: the role (PostgreSQL) or ACL user (Redis) before the `:`. */
const URL_USER: Readonly<Record<DataDependency, { output: string; pattern: RegExp; oldId: (user: string) => string }>> = {
  postgres: { output: 'database_url', pattern: /^postgresql:\/\/([a-z0-9_]+):/, oldId: (role) => `postgres-password-${role}` },
  redis: { output: 'redis_url', pattern: /^redis:\/\/([a-z0-9-]+):/, oldId: (user) => `redis-password-${user}` },
};

/** Every move the synthesized app implies, from each credentials stack's own connection strings. */
export function passwordMoves(app: SynthesizedApp): PasswordMove[] {
  const moves: PasswordMove[] = [];
  for (const stack of app.stacks.values()) {
    const match = /^(.+?)-.+-credentials$/.exec(stack.name);
    if (match === null) continue;
    const dataStack = `${match[1]}-data`;
    for (const [dependency, spelling] of Object.entries(URL_USER) as Array<[DataDependency, (typeof URL_USER)[DataDependency]]>) {
      const url = stack.json.output?.[spelling.output]?.value;
      if (typeof url !== 'string') continue;
      const user = spelling.pattern.exec(url)?.[1];
      if (user === undefined) throw new Error(`${stack.name}: cannot read the ${dependency} user from output ${spelling.output}`);
      moves.push({ dataStack, credentialsStack: stack.name, from: `random_password.${spelling.oldId(user)}`, to: `random_password.${CREDENTIALS_PASSWORD_IDS[dependency]}` });
    }
  }
  return moves;
}

function addresses(stateFile: string): Set<string> {
  if (!fs.existsSync(stateFile)) return new Set();
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { resources?: Array<{ mode: string; type: string; name: string }> };
  return new Set((state.resources ?? []).filter((resource) => resource.mode === 'managed').map((resource) => `${resource.type}.${resource.name}`));
}

function stackOf(app: SynthesizedApp, name: string): SynthesizedStack {
  const stack = app.stacks.get(name);
  if (stack === undefined) throw new Error(`no stack ${name} in ${app.outdir}`);
  return stack;
}

/** A line for each move, in the form its backend needs; `pending` only those whose password is still in the data state. */
export function describeMoves(app: SynthesizedApp, root: string, moves: readonly PasswordMove[]): { commands: string[]; pending: PasswordMove[] } {
  const commands: string[] = [];
  const pending: PasswordMove[] = [];
  for (const move of moves) {
    const data = stateLocation(stackOf(app, move.dataStack));
    const credentials = stateLocation(stackOf(app, move.credentialsStack));
    if (data.kind === 'local' && credentials.kind === 'local') {
      const from = path.resolve(root, data.file);
      const to = path.resolve(root, credentials.file);
      if (!addresses(from).has(move.from)) continue;
      if (addresses(to).has(move.to)) {
        // The credentials stack was applied first and generated a new password; the next data apply would set it.
        throw new Error(
          `${move.credentialsStack} already has ${move.to} while ${move.dataStack} still holds ${move.from}: to keep the current password, ` +
            `run \`terraform state rm -state=${path.relative(root, to)} ${move.to}\` (only while ${move.dataStack} is not yet applied with the new code), then this again`,
        );
      }
      pending.push(move);
      commands.push(`terraform state mv -state=${path.relative(root, from)} -state-out=${path.relative(root, to)} ${move.from} ${move.to}`);
    } else {
      // Pull the data workspace once, move into a local copy per credentials workspace, push that copy.
      pending.push(move);
      const dataDir = path.join(app.outdir, 'stacks', move.dataStack);
      const credentialsDir = path.join(app.outdir, 'stacks', move.credentialsStack);
      commands.push(
        `terraform -chdir=${dataDir} init -input=false && terraform -chdir=${dataDir} state pull > ${move.dataStack}.tfstate  # once per environment`,
        `terraform state mv -state=${move.dataStack}.tfstate -state-out=${move.credentialsStack}.tfstate ${move.from} ${move.to}`,
        `terraform -chdir=${credentialsDir} init -input=false && terraform -chdir=${credentialsDir} state push $PWD/${move.credentialsStack}.tfstate  # after its last move`,
      );
    }
  }
  if (commands.some((command) => command.includes('state pull'))) {
    // The pulled copies hold every password in clear text; the data workspace keeps its copies until its next
    // apply, which plans them as destroyed (random_password has nothing to destroy outside state).
    commands.push(`rm -f ${[...new Set(moves.flatMap((move) => [`${move.dataStack}.tfstate`, `${move.credentialsStack}.tfstate`]))].join(' ')}`);
  }
  return { commands, pending };
}

/** Runs the local moves; returns what Terraform printed, or throws with it. */
export function applyLocalMoves(root: string, commands: readonly string[]): string {
  let printed = '';
  for (const command of commands) {
    const [binary, ...args] = command.split(' ');
    const result = spawnSync(binary, args, { cwd: root, encoding: 'utf8', env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' } });
    printed += `${result.stdout}${result.stderr}`;
    if (result.status !== 0) throw new Error(`${command} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return printed;
}

function main(argv: readonly string[]): number {
  const apply = argv.includes('--apply');
  const root = process.cwd();
  const app = readSynthesizedApp(path.join(root, 'cdktf.out'));
  const { commands, pending } = describeMoves(app, root, passwordMoves(app));
  if (pending.length === 0) {
    process.stdout.write('nothing to move: no product password is left in a data stack\'s local state\n');
    return 0;
  }
  const local = commands.every((command) => command.startsWith('terraform state mv'));
  if (apply && !local) {
    process.stderr.write('error: --apply runs local-state moves only; under Terraform Cloud run the printed commands with a token that may read and write state\n');
    return 1;
  }
  if (!apply) {
    process.stdout.write(`${commands.join('\n')}\n`);
    return 0;
  }
  applyLocalMoves(root, commands);
  process.stdout.write(`moved ${pending.length} password(s): ${pending.map((move) => `${move.credentialsStack} ${move.to}`).join(', ')}\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
