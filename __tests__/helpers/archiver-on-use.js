/**
 * `archiver` for the test runs, loaded on its first use. cdktf requires it as it loads (cdktf 0.21
 * lib/private/fs.js), but calls it only in the child `node fs.js <src> <dest>` it starts to zip an ARCHIVE asset,
 * a plain Node process outside jest; and jest evaluates every module again for each test file, which made this
 * unused package cost about 0.1 s of CPU per file. jest.config.js maps `archiver` here; the real module is
 * required by its own path, which the mapping does not match.
 */
'use strict';
module.exports = function archiver(...args) {
  return require('archiver/index.js')(...args);
};
