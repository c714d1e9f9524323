#!/usr/bin/env node
'use strict';
/**
 * `npm test`'s set-up (the `pretest` script; `.ci/run` relies on it too): makes sure what
 * the test suite needs from the machine is there, or stops at once with one line naming
 * the missing piece and the command that installs it.
 *
 * - Redis answering on 127.0.0.1:6379 (the Redis-store tests): a throwaway `redis-server`
 *   (no persistence) is started when one is installed; Debian's `redis-server` is installed
 *   first when running as root with apt. A Redis that already answers is left alone.
 * - Chromium for the dashboard test: `CHROMIUM_PATH`, `/usr/bin/chromium` or `chromium` on
 *   PATH (scripts/chromium-path.js, which the test uses too); Debian's `chromium` is
 *   installed when running as root with apt.
 * - Kamailio 5.6 with http_client, jansson and app_lua, LuaSocket, and SIPp for the SIP-edge
 *   test (deploy/kamailio, deploy/sipp): Debian's packages are installed when running as root
 *   with apt (src/demo/sip-tools.ts checks the same files for `npm run sip:demo`).
 *
 * RTP_PROVISION_NO_INSTALL=1 forbids installing (as on a machine without root or apt).
 */
const { spawnSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');
const net = require('node:net');
const { delimiter, join } = require('node:path');
const { resolveChromium } = require('./chromium-path');

const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;
const NAME = 'provision-test-env';

function fail(line) {
  process.stderr.write(`${NAME}: ${line}\n`);
  process.exit(1);
}

function note(line) {
  process.stderr.write(`${NAME}: ${line}\n`);
}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch { /* next */ }
  }
  return undefined;
}

/** Whether installing with apt is possible: root, apt-get on PATH, not forbidden. */
function canAptInstall() {
  const off = (process.env.RTP_PROVISION_NO_INSTALL || '').toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(off)) return false;
  return typeof process.getuid === 'function' && process.getuid() === 0 && which('apt-get') !== undefined;
}

let aptUpdated = false;
/** `apt-get update -qq && apt-get install -y -qq <pkg>`; apt's own output goes to stderr. */
function aptInstall(pkg) {
  note(`installing Debian's ${pkg} (apt-get install -y -qq ${pkg})`);
  const opts = { stdio: ['ignore', process.stderr, process.stderr], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  if (!aptUpdated) {
    if (spawnSync('apt-get', ['update', '-qq'], opts).status !== 0) return false;
    aptUpdated = true;
  }
  return spawnSync('apt-get', ['install', '-y', '-qq', pkg], opts).status === 0;
}

/** Resolves true when something on host:port answers a Redis PING with +PONG. */
function redisAnswers(timeoutMs = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: REDIS_HOST, port: REDIS_PORT });
    let buf = '';
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      // +PONG, or -NOAUTH/-ERR: a Redis is there either way; the tests report auth themselves.
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG') || buf.startsWith('-'));
    });
  });
}

async function ensureRedis() {
  if (await redisAnswers()) return;
  if (!which('redis-server') && canAptInstall()) aptInstall('redis-server');
  if (!which('redis-server')) {
    fail(`Redis is not answering on ${REDIS_HOST}:${REDIS_PORT} and redis-server is not installed; install it with: sudo apt-get install redis-server (or start a Redis there)`);
  }
  // A throwaway server: loopback only, nothing written to disk. It outlives the test run
  // on purpose (the next run reuses it); `redis-cli -p 6379 shutdown nosave` stops it.
  const r = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', REDIS_HOST, '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(200)) {
      note(`started a throwaway redis-server on ${REDIS_HOST}:${REDIS_PORT}`);
      return;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  const why = (r.stderr || '').toString().trim().split('\n')[0];
  fail(`redis-server did not start answering on ${REDIS_HOST}:${REDIS_PORT}${why ? ` (${why})` : ''}; start one with: redis-server --bind ${REDIS_HOST} --port ${REDIS_PORT}`);
}

function ensureChromium() {
  const given = process.env.CHROMIUM_PATH && process.env.CHROMIUM_PATH.trim();
  let found = resolveChromium();
  if (!found && canAptInstall()) {
    aptInstall('chromium');
    found = resolveChromium();
  }
  const badGiven = given && found !== given ? `CHROMIUM_PATH=${given} is not an executable file` : undefined;
  if (!found) {
    fail(`Chromium not found for the dashboard test (${badGiven ? `${badGiven}, ` : 'CHROMIUM_PATH unset, '}no /usr/bin/chromium, no chromium on PATH); install it with: sudo apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  if (badGiven) note(`${badGiven}; using ${found}`);
}

/** The Debian packages of the SIP edge that are missing, judged by the files they install. */
function missingSipPackages() {
  const { existsSync, readdirSync } = require('node:fs');
  const kamailio = which('kamailio') || ['/usr/sbin/kamailio', '/usr/local/sbin/kamailio'].find((p) => existsSync(p));
  const missing = [];
  if (!kamailio) missing.push('kamailio');
  const moduleDirs = [];
  for (const lib of ['/usr/lib', '/usr/lib64', '/usr/local/lib']) {
    let entries = [];
    try {
      entries = readdirSync(lib);
    } catch { continue; }
    for (const e of ['.', ...entries]) if (existsSync(join(lib, e, 'kamailio', 'modules'))) moduleDirs.push(join(lib, e, 'kamailio', 'modules'));
  }
  const has = (m) => moduleDirs.some((d) => existsSync(join(d, m)));
  if (!has('http_client.so')) missing.push('kamailio-utils-modules');
  if (!has('jansson.so')) missing.push('kamailio-json-modules', 'kamailio-extra-modules');
  if (!has('app_lua.so')) missing.push('kamailio-lua-modules');
  if (!existsSync('/usr/share/lua/5.1/socket/http.lua') && !existsSync('/usr/local/share/lua/5.1/socket/http.lua')) missing.push('lua-socket');
  if (!which('sipp')) missing.push('sip-tester');
  return missing;
}

function ensureSipTools() {
  let missing = missingSipPackages();
  if (missing.length && canAptInstall()) {
    for (const pkg of missing) aptInstall(pkg);
    missing = missingSipPackages();
  }
  if (missing.length) {
    fail(`Kamailio and SIPp are needed for the SIP-edge test; install them with: sudo apt-get install ${missing.join(' ')}`);
  }
}

(async () => {
  await ensureRedis();
  ensureChromium();
  ensureSipTools();
})().catch((e) => fail(e instanceof Error ? e.message : String(e)));
