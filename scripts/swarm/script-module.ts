/**
 * scripts/swarm/join as a TypeScript module, so the network stack inlines it
 * wherever the library runs (the build, a bundle, another system's package)
 * without reading a file beside its own code. Written by `npm run generate`;
 * __tests__/swarm-formation.test.ts fails when it is stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SWARM_JOIN_SOURCE = path.join(__dirname, 'join');
export const SWARM_JOIN_MODULE = path.join(__dirname, '..', '..', 'constructs', 'hetzner', 'swarm-join-script.ts');

/** The module's text for the script's current content. */
export function swarmJoinModule(script = fs.readFileSync(SWARM_JOIN_SOURCE, 'utf8')): string {
  return [
    '// Generated from scripts/swarm/join by `npm run generate` (scripts/swarm/script-module.ts): edit the script, not this file.',
    '',
    '/** scripts/swarm/join: joins a host to the swarm over SSH, the token only on pipes (docs/scaling.md). */',
    `export const SWARM_JOIN_SCRIPT = ${JSON.stringify(script)};`,
    '',
  ].join('\n');
}
