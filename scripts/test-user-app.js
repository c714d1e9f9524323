#!/usr/bin/env node
/**
 * npm run test:user-app [-- <node major>...]
 *
 * Packs rtp-pool (`npm pack`: prepack builds it) and installs the tarball into examples/user-app,
 * a Nest app as `nest new` makes it, pinned to the lowest Nest 12 release of the peer range:
 * `npm ci` from the app's own lock, then `npm install --no-save <tarball>` (the tarball's path
 * and checksum change with every pack, so it stays out of the lock). Then checks that one copy
 * of Nest is installed, builds the app (tsc through `nest build`) and type-checks its tests,
 * runs its unit and e2e tests (vitest), and runs `npx rtp-pool` and `npx rtp-pool-media-node`
 * (--version, --help, and each started until it answers on HTTP). The tests and the commands
 * run on the Node in PATH, then on each major given (binaries from scripts/node-lts.js).
 */
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { nodeBin } = require('./node-lts');

const ROOT = join(__dirname, '..');
const APP = join(ROOT, 'examples', 'user-app');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function step(title) {
  process.stdout.write(`\ntest:user-app: ${title}\n`);
}

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: 'inherit', ...opts });
}

function output(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });
}

/** Starts `npx <bin>` in its own process group, waits for `ready` in its output, GETs `path`, then stops it with SIGTERM. */
function startAndProbe(env, bin, vars, ready, path) {
  return new Promise((resolve, reject) => {
    const child = spawn(npx, ['--no-install', bin], { cwd: APP, env: { ...env, ...vars }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let probed = false;
    const timer = setTimeout(() => finish(new Error(`${bin}: no "${ready}" within 30 s:\n${out}`)), 30_000);
    const signal = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const finish = (err) => {
      clearTimeout(timer);
      signal('SIGTERM');
      // A graceful stop takes well under its default shutdown timeout (7 s); past 15 s it hangs.
      setTimeout(() => {
        signal('SIGKILL');
        reject(new Error(`${bin}: still running 15 s after SIGTERM:\n${out}`));
      }, 15_000).unref();
      if (err) reject(err);
    };
    const onData = async (d) => {
      out += d.toString();
      const m = ready.exec(out);
      if (!m || probed) return;
      probed = true;
      try {
        const res = await fetch(`http://127.0.0.1:${m[1]}${path}`);
        if (res.status !== 200) throw new Error(`${bin}: GET ${path} answered ${res.status}`);
        process.stdout.write(`  ${bin}: started on defaults, GET ${path} on port ${m[1]}: 200\n`);
        finish();
      } catch (e) {
        finish(e);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      if (probed && (code === 0 || signal === 'SIGTERM')) resolve();
      else if (probed) reject(new Error(`${bin}: exited with ${code ?? signal} after SIGTERM:\n${out}`));
      else finish(new Error(`${bin}: exited with ${code ?? signal} before answering:\n${out}`));
    });
  });
}

async function testOn(label, binDir) {
  const env = binDir ? { ...process.env, PATH: `${binDir}:${process.env.PATH}` } : { ...process.env };
  const version = output('node', ['--version'], { env }).trim();
  step(`tests and commands on Node ${version} (${label})`);
  run(npm, ['test'], { cwd: APP, env });
  run(npm, ['run', 'test:e2e'], { cwd: APP, env });
  const pkgVersion = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  for (const bin of ['rtp-pool', 'rtp-pool-media-node']) {
    const v = output(npx, ['--no-install', bin, '--version'], { cwd: APP, env }).trim();
    if (v !== pkgVersion) throw new Error(`npx ${bin} --version said "${v}", expected ${pkgVersion}`);
    const help = output(npx, ['--no-install', bin, '--help'], { cwd: APP, env });
    const must = bin === 'rtp-pool' ? /^\s+SIP_CONTROL_PORT\s+8080\s/m : /^\s+RTP_CONTROL_PORT\s+8090\s/m;
    if (!must.test(help)) throw new Error(`npx ${bin} --help does not list its port variable with its default:\n${help}`);
    process.stdout.write(`  npx ${bin} --version: ${v}; --help: ${help.split('\n').length} lines\n`);
  }
  // Defaults, except a loopback address and a free port: the machine may be running other services.
  await startAndProbe(env, 'rtp-pool', { SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: '0' }, /listening on http:\/\/127\.0\.0\.1:(\d+)/, '/health');
  await startAndProbe(env, 'rtp-pool-media-node', { RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0' }, /listening on 127\.0\.0\.1:(\d+)/, '/v1/health');
}

async function main() {
  const majors = process.argv.slice(2);
  if (majors.some((m) => !/^\d+$/.test(m))) throw new Error('usage: node scripts/test-user-app.js [<node major>...]');
  const dir = mkdtempSync(join(tmpdir(), 'rtp-pool-pack-'));
  try {
    step('npm pack (prepack builds dist/)');
    const [packed] = JSON.parse(output(npm, ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }));
    const tarball = join(dir, packed.filename);
    process.stdout.write(`  ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes\n`);

    step('npm ci in examples/user-app, then the tarball');
    run(npm, ['ci', '--no-audit', '--no-fund'], { cwd: APP });
    run(npm, ['install', '--no-save', '--no-audit', '--no-fund', tarball], { cwd: APP });

    // Nest is a peer dependency: the app's own copy is the only one.
    const pinned = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')).dependencies['@nestjs/core'];
    const installed = JSON.parse(readFileSync(join(APP, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8')).version;
    if (installed !== pinned) throw new Error(`examples/user-app has @nestjs/core ${installed}, its package.json pins ${pinned}`);
    for (const p of ['@nestjs/core', '@nestjs/common']) {
      if (existsSync(join(APP, 'node_modules', 'rtp-pool', 'node_modules', p))) throw new Error(`a second ${p} is installed under rtp-pool`);
    }
    process.stdout.write(`  one @nestjs/core (${installed}), one @nestjs/common\n`);

    step('nest build and tsc --noEmit (the app and its tests against the installed types)');
    run(npm, ['run', 'build'], { cwd: APP });
    run(npx, ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: APP });

    await testOn('PATH', undefined);
    for (const m of majors) await testOn(`npm package node-${process.platform}-${process.arch}@${m}`, nodeBin(m));
    step(`green on the Node in PATH${majors.length ? ` and on Node ${majors.join(', ')}` : ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`test:user-app: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
