import { MANACORE_PRODUCTS } from './catalog';
import type { SystemSpec } from '../index';
import { production } from './production';
import { staging } from './staging';

/** Manacore: every product, in staging and production. */
export const manacore: SystemSpec = {
  name: 'manacore',
  rootDomain: 'manacore.app',
  registry: { host: 'ghcr.io', owner: 'manacore' },
  repository: { owner: 'manacore', name: 'manacore-monorepo' },
  products: MANACORE_PRODUCTS,
  environments: [staging, production],
};
