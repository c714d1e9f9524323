'use strict';
/**
 * Where the tests find Chromium, in one place for the provisioning script
 * (scripts/provision-test-env.js) and the dashboard test: `CHROMIUM_PATH` when set,
 * else Debian's `/usr/bin/chromium`, else `chromium` on PATH. Undefined when none is an
 * executable file (a
 * CHROMIUM_PATH that is not one is passed over; the provisioning script says so).
 */
const { accessSync, constants, statSync } = require('node:fs');
const { delimiter, join } = require('node:path');

/** Debian's path for its `chromium` package. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** @param {NodeJS.ProcessEnv} [env] @returns {string | undefined} */
function resolveChromium(env = process.env) {
  const given = env.CHROMIUM_PATH && env.CHROMIUM_PATH.trim();
  const onPath = (env.PATH || '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'chromium'));
  return [...(given ? [given] : []), DEBIAN_CHROMIUM, ...onPath].find(isExecutable);
}

module.exports = { resolveChromium, DEBIAN_CHROMIUM };
