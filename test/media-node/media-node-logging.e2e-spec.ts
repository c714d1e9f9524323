import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { loadMediaNodeConfig } from '../../src/media-node/media-node.config';
import type { RunningMediaNode } from '../../src/media-node/media-node.app';
import { NODE_TEST_ENV } from '../support/media-nodes';
import { builtEntry } from '../support/dist';
import { RawHttp } from '../support/raw-http';

/** A pino destination (a real stream: pino-pretty pipes into it) that keeps every line. */
function capture(): Writable & { lines: string[] } {
  const lines: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(l);
      cb();
    },
  });
  return Object.assign(w, { lines });
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown> & { level: number; msg?: string });

/** The reference media node logs as the service does: pino JSON lines, LOG_LEVEL, LOG_PRETTY, tokens redacted. */
describe('media node logging', () => {
  let node: RunningMediaNode | undefined;
  afterEach(async () => {
    await node?.close();
    node = undefined;
  });

  async function start(env: Record<string, string>) {
    const out = capture();
    // nestjs-pino keeps one pino-http instance per process (module state): each node of
    // this file gets fresh modules, as each process would.
    jest.resetModules();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startMediaNode } = require('../../src/media-node/media-node.app') as typeof import('../../src/media-node/media-node.app');
    node = await startMediaNode(loadMediaNodeConfig({ ...NODE_TEST_ENV, RTP_NODE_TOKEN: 'tok-logging', ...env }), { logDestination: out });
    return out;
  }

  it('writes one JSON line per request and Nest\'s own lines as JSON, with the token redacted', async () => {
    const out = await start({ LOG_LEVEL: 'info' });
    const http = new RawHttp(node!.url, 1);
    try {
      // A refusal of the validation pipe. (Refusals of the raw-byte gate happen in the body
      // parser, which runs before nestjs-pino's middleware: those are not logged, on the
      // service either.)
      await http.request('POST', '/v1/legs', { body: '{"call_id":"x","toString":1}', headers: { 'content-type': 'application/json', authorization: 'Bearer tok-logging' } });
      await http.request('GET', '/v1/legs', { headers: { authorization: 'Bearer tok-logging', 'x-request-id': 'edge-7' } });
    } finally {
      http.close();
    }
    const lines = parse(out.lines); // throws on any line that is not JSON
    expect(lines.some((l) => typeof l.context === 'string' && l.msg)).toBe(true); // Nest's start-up lines
    const requests = lines.filter((l) => l.req !== undefined);
    expect(requests).toEqual([
      expect.objectContaining({ level: 40, req: expect.objectContaining({ method: 'POST', url: '/v1/legs' }), res: { statusCode: 400 } }),
      expect.objectContaining({ level: 30, req: expect.objectContaining({ id: 'edge-7', method: 'GET' }), res: { statusCode: 200 } }),
    ]);
    expect(out.lines.join('\n')).not.toContain('tok-logging');
    expect((requests[0].req as { headers: Record<string, string> }).headers.authorization).toBe('[redacted]');
  });

  it('honours LOG_LEVEL: at warn, only the refused request is logged', async () => {
    const out = await start({ LOG_LEVEL: 'warn' });
    const http = new RawHttp(node!.url, 1);
    try {
      await http.request('GET', '/v1/health');
      await http.request('GET', '/v1/legs'); // 401: no token
    } finally {
      http.close();
    }
    const lines = parse(out.lines);
    expect(lines.every((l) => l.level >= 40)).toBe(true);
    const requests = lines.filter((l) => l.req !== undefined);
    expect(requests.map((l) => [l.level, (l.res as { statusCode?: number }).statusCode])).toEqual([[40, 401]]);
  });

  it('honours LOG_PRETTY: human-readable lines instead of JSON', async () => {
    const out = await start({ LOG_PRETTY: 'true' });
    const http = new RawHttp(node!.url, 1);
    try {
      await http.request('GET', '/v1/health');
    } finally {
      http.close();
    }
    // pino-pretty hands its lines on through a stream pipeline: give it a moment.
    await new Promise((r) => setTimeout(r, 100));
    expect(out.lines.length).toBeGreaterThan(0);
    for (const l of out.lines) expect(() => JSON.parse(l)).toThrow();
    expect(out.lines.join('\n')).toMatch(/request completed/);
  });

  it('refuses a bad LOG_LEVEL as the service does', () => {
    expect(() => loadMediaNodeConfig({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(loadMediaNodeConfig({})).toMatchObject({ logLevel: 'info', logPretty: false });
  });

  it('dist/media-node/main.js prints only JSON lines on stdout, its start-up line included', async () => {
    const main = builtEntry('media-node/main.js');
    const child = spawn(process.execPath, [main], {
      cwd: __dirname,
      env: { PATH: process.env.PATH ?? '', ...NODE_TEST_ENV, RTP_NODE_ID: 'log-node', RTP_PORT_MIN: '36000', RTP_PORT_MAX: '36099' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start-up line within 15 s: ${stdout}${stderr}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /log-node listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
          if (m) { clearTimeout(timer); resolve(m[1]); }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${stdout}${stderr}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
    const lines = parse(stdout.split('\n').filter(Boolean));
    expect(lines.find((l) => /log-node listening on/.test(String(l.msg)))).toMatchObject({ level: 30, context: 'rtp-media-node' });
    expect(lines.some((l) => /RTP_NODE_TOKEN is not set/.test(String(l.msg)) && l.level === 40)).toBe(true);
    expect(stdout).not.toMatch(/\u001b\[/); // none of Nest's coloured default lines
  });
});
