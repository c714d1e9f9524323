import { type ChildProcess, spawn } from 'node:child_process';
import { FakeMediaNode } from '../support/fake-media-node';
import { builtEntry } from '../support/dist';

// The built service (npm test builds dist/ before jest), so start-up and its real logger are covered.
const MAIN = builtEntry('main.js'); // one line "run npm run build" when dist/ is missing or stale
const REG = 'reg-0d1e2f3a4b5c';
const API = 'api-9a8b7c6d5e4f';
const NODE = 'node-1a2b3c4d5e6f';

interface Running {
  child: ChildProcess;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts dist/main.js on 127.0.0.1:0 and waits for its "listening" line (bounded: 15 s). */
function start(env: Record<string, string>): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: '0', RTP_CONTROL_TIMEOUT_MS: '500', ...env },
      cwd: __dirname, // no .env here
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dist/main.js did not start within 15 s:\n${out}`));
    }, 15_000);
    const stop = () => new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    });
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), output: () => out, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dist/main.js exited with ${code}:\n${out}`));
    });
  });
}

describe('security at start-up (dist/main.js)', () => {
  it('warns once for each unset token, naming it', async () => {
    const r = await start({});
    try {
      const out = r.output();
      for (const name of ['RTP_REGISTRY_TOKEN', 'RTP_API_TOKEN', 'RTP_NODE_TOKEN']) {
        expect(out.split(`${name} is not set`).length - 1).toBe(1);
      }
    } finally {
      await r.stop();
    }
  });

  it('with every token set: no warning, and no token ever reaches the output, whatever clients send', async () => {
    const node = await new FakeMediaNode('s1').start();
    const r = await start({ RTP_REGISTRY_TOKEN: REG, RTP_API_TOKEN: API, RTP_NODE_TOKEN: NODE, LOG_LEVEL: 'debug' });
    try {
      expect(r.output()).not.toMatch(/is not set/);
      const base = `http://127.0.0.1:${r.port}`;
      const call = (method: string, path: string, token?: string, body?: unknown) => fetch(base + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      expect((await call('POST', '/v1/nodes/register', REG, { node_id: 's1', control_url: node.url })).status).toBe(200);
      expect((await call('POST', '/v1/nodes/register', API, { node_id: 's2', control_url: node.url })).status).toBe(401);
      expect((await call('GET', '/v1/nodes', REG + 'x')).status).toBe(401);
      expect((await call('GET', '/v1/nodes', `${API} ${NODE}`)).status).toBe(401);
      expect((await call('POST', '/v1/calls', API, { call_id: 'log-1', offer_sdp: 'v=0' })).status).toBe(201);
      node.mode = 'fail500';
      expect((await call('POST', '/v1/calls/log-1/start', API)).status).toBe(502);
      expect((await call('DELETE', '/v1/calls/log-1', API)).status).toBe(502);
      // Tokens in bodies and paths too (a confused client).
      expect((await call('POST', '/v1/calls', API, { call_id: 'x', offer_sdp: 'v=0', token: API })).status).toBe(400);
      // The pool sent its node token; the node would check it.
      expect(node.requests.filter((q) => q.rawPath.startsWith('/v1/legs')).every((q) => q.headers.authorization === `Bearer ${NODE}`)).toBe(true);
      await new Promise((res) => setTimeout(res, 200)); // let the last log lines flush
      const out = r.output();
      expect(out).toMatch(/log-1/); // requests were logged …
      for (const secret of [REG, API, NODE]) expect(out).not.toContain(secret); // … without any secret
    } finally {
      await r.stop();
      await node.stop();
    }
  });
});
