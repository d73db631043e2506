import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ValidateTerraformVersion } from 'cdktf/lib/validations/validate-terraform-version';
import { nutri } from '../examples/nutri';
import { synthesizeSystem } from '../stacks/app';

// The module object cdktf calls through (a namespace import would be a copy of it).
import childProcess = require('child_process');

/**
 * cdktf runs `terraform version` for each construct that checks it (a CloudBackend per stack under Terraform Cloud);
 * synthesizeSystem asks once per process (constructs/core/binary-version-once.ts). The version command is answered
 * here without starting Terraform (the unit lane starts no process).
 */
describe('Terraform version checks', () => {
  let installed = 'Terraform v1.11.0\non linux_amd64\n';
  const execSync = jest.spyOn(childProcess, 'execSync').mockImplementation(((command: string) => {
    if (command !== 'terraform version') throw new Error(`unexpected command ${command}`);
    return Buffer.from(installed);
  }) as typeof childProcess.execSync);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'binary-version-once-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('run terraform version once for the whole App under Terraform Cloud, not once per stack', () => {
    const { app } = synthesizeSystem(nutri, { terraformCloudOrganization: 'acme', outdir, onWarning: () => undefined });
    const stacks = app.node.children.length;
    expect(stacks).toBeGreaterThan(3);
    expect(execSync.mock.calls.map(([command]) => command)).toEqual(['terraform version']);
  });

  it('run it again only for a check of another constraint or message, which compares with the version it reads', () => {
    installed = 'Terraform v1.0.11\n';
    // The CloudBackend's check, answered above, is not run again.
    expect(new ValidateTerraformVersion('>=1.1', 'The cloud block is only supported for Terraform >=1.1. Please upgrade your Terraform version.').validate()).toEqual([]);
    expect(execSync).toHaveBeenCalledTimes(1);
    const tooOld = ['terraform version 1.0.11 is lower than the required version >=1.5 for this construct. upgrade'];
    expect(new ValidateTerraformVersion('>=1.5', 'upgrade').validate()).toEqual(tooOld);
    expect(new ValidateTerraformVersion('>=1.5', 'upgrade').validate()).toEqual(tooOld);
    expect(execSync).toHaveBeenCalledTimes(2);
  });
});
