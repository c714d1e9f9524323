import { spawn } from 'node:child_process';
import { builtEntry } from '../support/dist';

const MAIN = builtEntry('main.js'); // one line "run npm run build" when dist/ is missing or stale

/** Runs dist/main.js (built by `npm test` before jest) until `until` matches its output or it exits. */
function run(env: Record<string, string>, until?: RegExp): Promise<{ code: number | null; out: string; kill: () => void }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: __dirname });
    let out = '';
    const done = (code: number | null) => resolve({ code, out, kill: () => child.kill('SIGTERM') });
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until && until.test(out)) done(null);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => done(code));
    setTimeout(() => { child.kill('SIGKILL'); }, 15_000).unref();
  });
}

describe('dist/main.js', () => {
  it('stops on a bad variable with one line naming it, exit code 1, no stack trace', async () => {
    const r = await run({ SIP_CONTROL_PORT: 'abc' });
    expect(r.code).toBe(1);
    expect(r.out.trim()).toBe('rtp-pool: invalid configuration: SIP_CONTROL_PORT: must be an integer, got "abc"');
  });

  it('stops on a seed URL that is not http/https', async () => {
    const r = await run({ RTP_CONTROL_URLS: 'gopher://x:70' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/RTP_CONTROL_URLS: "gopher:\/\/x:70" must use http or https/);
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  it('serves the API and logs its address and seed count', async () => {
    const r = await run({ SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: '0', RTP_CONTROL_URL: 'http://127.0.0.1:9' }, /listening on http:\/\/127\.0\.0\.1:(\d+) with 1 seed node/);
    try {
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(r.out)![1];
      const res = await fetch(`http://127.0.0.1:${port}/v1/nodes`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { nodes: unknown[] }).nodes[0]).toMatchObject({ node_id: 'seed-1', static: true });
    } finally {
      r.kill();
    }
  });
});
