/**
 * cdktf checks the Terraform version with a validation per construct that
 * needs a recent one (`ValidateTerraformVersion`: every `CloudBackend`,
 * `terraform_data`, import and moved block), and each check runs
 * `terraform version` in a shell (cdktf/lib/validations/validate-binary-version.js,
 * `execSync(this.versionCommand)`). Under Terraform Cloud that is one
 * Terraform start per stack: 55 per synth of this App, 2.7 s of CPU. The
 * binary cannot change during a synth, so a check is run once per process
 * for each distinct command, constraint and message, and later checks with
 * the same ones get its answer.
 *
 * Like token-stack-traces.ts, it changes cdktf's own module object (the
 * class its version validations inherit `validate` from), in Node and in
 * the app's esbuild bundle.
 */
interface BinaryVersionValidation {
  readonly binary: string;
  readonly versionConstraint: string;
  readonly versionCommand: string;
  readonly hint?: string;
  validate(): string[];
}

// A static require of the file cdktf's validations require, so Node and the bundle hand back the module they use.
const binaryVersionModule: { ValidateBinaryVersion?: { prototype: BinaryVersionValidation } } = require('cdktf/lib/validations/validate-binary-version');
const prototype = binaryVersionModule.ValidateBinaryVersion?.prototype;
if (prototype === undefined || typeof prototype.validate !== 'function') {
  throw new Error('cdktf/lib/validations/validate-binary-version no longer exports ValidateBinaryVersion: re-check binary-version-once.ts after a cdktf upgrade');
}
const versionValidation: BinaryVersionValidation = prototype;
const validateEveryTime = versionValidation.validate;

/** Each check's problems (none: an empty list) by everything the check reads. */
const answers = new Map<string, readonly string[]>();

function validateOnce(this: BinaryVersionValidation): string[] {
  const key = JSON.stringify([this.binary, this.versionConstraint, this.versionCommand, this.hint]);
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = validateEveryTime.call(this);
    answers.set(key, answer);
  }
  return [...answer];
}

/**
 * Makes cdktf's binary version validations (`terraform version`) run once
 * per process for each distinct check. Idempotent.
 */
export function checkBinaryVersionsOnce(): void {
  versionValidation.validate = validateOnce;
}
