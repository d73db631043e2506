/**
 * The order jest hands test files to its workers: the integration lane first, then the unit lane, each in jest's
 * own order (failed first, then by the duration recorded in its cache, or by file size when it has none). The
 * integration files are the long ones, and most of their time is waiting on a real engine (a swarm converging, a
 * health check's interval): started first, they wait while the unit files use the cores. A fresh clone has no
 * recorded durations, and by size alone a 60 s engine file could start last and end the run a minute later.
 */
'use strict';
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const INTEGRATION = `${path.sep}__tests__${path.sep}integration${path.sep}`;

class IntegrationFirst extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const integration = (test) => test.path.includes(INTEGRATION);
    return [...ordered.filter(integration), ...ordered.filter((test) => !integration(test))];
  }
}

module.exports = IntegrationFirst;
