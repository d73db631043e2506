/**
 * Waivers of the safety invariants (`invariantExemptions`): each names one
 * rule that exists, one stack this environment synthesizes and one
 * resource address in it, with a reason. Whether the resource exists and
 * breaks the rule is known only once the stack is synthesized: that is
 * checked at synth (stacks/system-stack.ts), where an exemption that waives
 * nothing fails.
 */
import { INVARIANT_RULES } from '../../policy/invariants';
import { DATA_DEPENDENCIES, type EnvironmentSpec, type SystemSpec } from '../model';
import { CREDENTIALS_STACK_SUFFIX } from './products';
import { ENV_VAR, type Report } from './shared';

/** A Terraform address in a stack: `<type>.<name>`, `var.<name>`, or `(stack)` for the scan of the whole stack's text. */
const EXEMPTED_ADDRESS = /^([a-z][a-z0-9_]*\.[A-Za-z0-9_-]+|\(stack\))$/;

/** The stacks an environment synthesizes, by name (the bootstrap stack takes no environment's exemptions). */
export function environmentStackNames(system: SystemSpec, environment: EnvironmentSpec): string[] {
  const stacks = ['network', 'edge', 'data', 'monitoring'];
  for (const deployment of environment.products) {
    const product = system.products.find((candidate) => candidate.name === deployment.product);
    if (product === undefined) continue;
    stacks.push(product.name);
    const usesDataContainer = DATA_DEPENDENCIES.some(
      (dependency) =>
        environment.data[dependency].mode === 'container' &&
        !deployment.externalData?.includes(dependency) &&
        product.services.some((service) => service.uses?.includes(dependency)),
    );
    if (usesDataContainer) stacks.push(`${product.name}${CREDENTIALS_STACK_SUFFIX}`);
  }
  return stacks.map((name) => `${environment.name}-${name}`);
}

export function validateExemptions(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
  const stacks = environmentStackNames(system, environment);
  const rules = Object.keys(INVARIANT_RULES);
  (environment.invariantExemptions ?? []).forEach((exemption, index) => {
    const field = (name: string) => `invariantExemptions[${index}].${name}`;
    if (!rules.includes(exemption.rule)) {
      report({ field: field('rule'), value: exemption.rule, allowed: rules });
    } else if (environment.production && exemption.rule.startsWith('production-')) {
      report({
        field: field('rule'),
        value: exemption.rule,
        allowed: rules.filter((rule) => !rule.startsWith('production-')),
        why: 'the production-* rules are production\'s protection itself (delete and rebuild protection, backups, prevent_destroy); production cannot waive them',
      });
    }
    if (!stacks.includes(exemption.stack)) report({ field: field('stack'), value: exemption.stack, allowed: stacks });
    if (exemption.resource === '*' || typeof exemption.resource !== 'string' || !EXEMPTED_ADDRESS.test(exemption.resource)) {
      report({
        field: field('resource'),
        value: exemption.resource,
        allowed: 'one Terraform address, as the violation names it ("docker_container.chat-debug", "var.name" or "(stack)"); never "*"',
        why: 'a waiver covers one resource the reviewer has looked at, not whatever the stack may hold later',
      });
    }
    if (exemption.variable !== undefined && (exemption.rule !== 'no-plaintext-secret' || typeof exemption.variable !== 'string' || !ENV_VAR.test(exemption.variable))) {
      report({
        field: field('variable'),
        value: exemption.variable,
        allowed: 'the UPPER_SNAKE_CASE name of one environment variable of the container, with the rule "no-plaintext-secret" only',
      });
    }
    if (typeof exemption.reason !== 'string' || exemption.reason.trim().length < 10) {
      report({ field: field('reason'), value: exemption.reason, allowed: 'why the rule does not apply here, in a sentence (at least 10 characters); it is written into the stack' });
    }
  });
}
