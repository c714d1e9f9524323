'use strict';
const { basename } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const { expectedSeconds } = require('../../jest.config');

/**
 * jest's sequencer, longest suite first, also on a fresh clone: where jest has no duration of
 * its own yet (its cache is per checkout), a suite takes the seconds jest.config.js lists for it,
 * or one second. Without this jest starts suites it has never timed first, by file size, and
 * the longest (a short file) would start last and finish alone.
 */
class LongestFirst extends Sequencer {
  time(test) {
    return super.time(test) ?? (expectedSeconds[basename(test.path, '.ts')] ?? 1) * 1000;
  }
}

module.exports = LongestFirst;
