import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeEnv } from '../../src/common/env';
import { loadAppConfig } from '../../src/config/app.config';
import { loadMediaNodeConfig } from '../../src/media-node/media-node.config';
import { builtEntry } from '../support/dist';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

/** Runs a built bin with `args` to its end (they never start a server); stdout, stderr, exit code. */
function runBin(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = builtEntry(pkg.bin[name].replace(/^dist\//, ''));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { cwd: join(ROOT, 'test'), env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  });
}

/** The variable table of a --help text: name → default ('-' = unset). */
function helpTable(help: string): Map<string, string> {
  const rows = help.slice(help.indexOf('VARIABLE')).split('\n').slice(1);
  const table = new Map<string, string>();
  for (const row of rows) {
    const m = /^ {2}([A-Z][A-Z0-9_]+) +(\S+)/.exec(row);
    if (!m) break;
    table.set(m[1], m[2]);
  }
  return table;
}

/** The README's configuration table: variable → its default cell without backticks ('–' = unset). */
function readmeTable(): Map<string, { def: string; mediaNode: boolean; shared: boolean }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## HTTP API'));
  const table = new Map<string, { def: string; mediaNode: boolean; shared: boolean }>();
  for (const line of section.split('\n').filter((l) => /^\| `/.test(l))) {
    const [vars, def] = line.split('|').slice(1, 3).map((c) => c.trim());
    const names = [...vars.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]);
    for (const name of names) table.set(name, { def: def.replace(/`/g, ''), mediaNode: vars.includes('(media node)'), shared: names.length > 1 });
  }
  return table;
}

describe('the bins (dist/bin)', () => {
  describe.each([
    ['rtp-pool', loadAppConfig, 'SIP_CONTROL_PORT', '8080'],
    ['rtp-pool-media-node', loadMediaNodeConfig, 'RTP_CONTROL_PORT', '8090'],
  ] as const)('%s', (name, load, portVar, port) => {
    it('--help lists every variable its configuration loader reads, with the loader\'s default, and exits 0', async () => {
      const r = await runBin(name, ['--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`${name} ${pkg.version}: `);
      const table = helpTable(r.stdout);
      const read = describeEnv(load);
      expect([...table.keys()]).toEqual(read.map((v) => v.name));
      for (const v of read) expect([v.name, table.get(v.name)]).toEqual([v.name, v.default ?? '-']);
      expect(table.get(portVar)).toBe(port);
      expect(table.get('LOG_LEVEL')).toBe('info');
    });

    it('--version prints the package version and exits 0', async () => {
      const r = await runBin(name, ['--version']);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    });

    it('refuses any other argument with one line and exit code 2, starting nothing', async () => {
      const r = await runBin(name, ['--port', '9000']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${name}: unknown argument "--port 9000"; the configuration is read from environment variables (${name} --help)\n`);
    });
  });

  it('rtp-pool --help and the README\'s configuration table name the same variables with the same defaults', async () => {
    const help = helpTable((await runBin('rtp-pool', ['--help'])).stdout);
    const readme = readmeTable();
    const documented = [...readme].filter(([, v]) => !v.mediaNode).map(([k]) => k);
    expect([...help.keys()].sort()).toEqual(documented.sort());
    for (const [name, { def, shared }] of readme) {
      // A plain default of a one-variable row (one value, or – for unset) must be the loader's.
      if (!help.has(name) || shared || !/^(\S+|–)$/.test(def)) continue;
      expect([name, help.get(name)]).toEqual([name, def === '–' ? '-' : def]);
    }
  });
});

describe('describeEnv', () => {
  it('records variables read through the readers, with defaults and accepted values, and ones read directly', () => {
    expect(describeEnv((env) => env.DIRECT_ONE)).toEqual([{ name: 'DIRECT_ONE' }]);
    const app = describeEnv(loadAppConfig);
    expect(app.find((v) => v.name === 'RTP_STORE')).toEqual({ name: 'RTP_STORE', default: 'memory', accepts: 'memory|redis' });
    expect(app.find((v) => v.name === 'SIP_CONTROL_PORT')).toEqual({ name: 'SIP_CONTROL_PORT', default: '8080', accepts: '0..65535' });
    expect(app.find((v) => v.name === 'REDIS_PASSWORD')).toEqual({ name: 'REDIS_PASSWORD' });
    // Recording needs the empty environment of describeEnv: an ordinary one is only read.
    expect(loadAppConfig({ SIP_CONTROL_PORT: '81' }).port).toBe(81);
  });
});
