/**
 * The systems `npm run bench` synthesizes are valid, so the benchmark cannot break unnoticed (it once did:
 * a variant without the apex's product was refused). The timing itself is not run here.
 */
import { manacoreWith, syntheticSystem } from '../scripts/bench';
import { resolveSystem } from '../system/resolve';

it.each([1, 4, 7, 10, 13])('Manacore with its first %i products resolves', (count) => {
  expect(resolveSystem(manacoreWith(count)).environments.map((environment) => environment.products.length)).toEqual([count, count]);
});

it.each([1, 50])('the synthetic catalog of %i products resolves', (count) => {
  expect(resolveSystem(syntheticSystem(count)).environments[0]!.products).toHaveLength(count);
});
