/**
 * The order jest hands test files to its workers: the integration lane first, then the unit lane; in each, files that
 * failed last time first, then the longest first. The integration files are the long ones, and most of their time is
 * waiting on a real engine (a swarm converging, a health check's interval): started first, they wait while the other
 * files use the cores, and the longest (60 s) does not start last and end the run a minute later.
 * "Longest" is the duration jest recorded, or for a file without one (a fresh clone, a new file, or after a run of a
 * few files had recorded only theirs) an estimate from its size at the lane's recorded seconds per byte. Jest's own
 * order runs every file without a duration before every file with one: after `npx jest` of three engine files, a
 * whole `npm test` started those three last and took 116 s instead of 90.
 */
'use strict';
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const INTEGRATION = `${path.sep}__tests__${path.sep}integration${path.sep}`;

class LongestFirst extends Sequencer {
  sort(tests) {
    super.sort(tests); // records each test's duration from jest's cache (test.duration), where it has one
    const integration = (test) => test.path.includes(INTEGRATION);
    return [...this.longestFirst(tests.filter(integration)), ...this.longestFirst(tests.filter((test) => !integration(test)))];
  }

  longestFirst(tests) {
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    const timed = tests.filter((test) => test.duration != null);
    const timedBytes = timed.reduce((sum, test) => sum + size(test), 0);
    const secondsPerByte = timed.length > 0 && timedBytes > 0 ? timed.reduce((sum, test) => sum + test.duration, 0) / timedBytes : 1;
    const estimate = (test) => test.duration ?? size(test) * secondsPerByte;
    return [...tests].sort((a, b) => Number(this.hasFailed(b)) - Number(this.hasFailed(a)) || estimate(b) - estimate(a));
  }
}

module.exports = LongestFirst;
