import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as http from 'node:http';
import { closedPort, FakeMediaNode } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { builtEntry } from '../support/dist';
import { SseClient } from '../support/sse-client';
import { RedisPoolStore } from '../../src/pool/store/redis-pool.store';

// dist/ is built by `npm test` before jest (locally: `npm run build`).
const MAIN = builtEntry('main.js'); // one line "run npm run build" when dist/ is missing or stale
const TOKEN = 'shutdown-secret-token';
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

interface Outcome {
  status?: number;
  body?: string;
  requestId?: string;
  error?: string;
}

/** One POST /v1/calls over `agent`; resolves with the answer or the socket error code (never rejects). */
function prepare(port: number, agent: http.Agent, callId: string, requestId?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ call_id: callId, offer_sdp: SDP });
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/v1/calls', agent,
      headers: {
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${TOKEN}`,
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text, requestId: res.headers['x-request-id'] as string }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.end(body);
  });
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('graceful shutdown of dist/main.js', () => {
  let node: FakeMediaNode;
  let child: ChildProcessWithoutNullStreams | undefined;
  const prefix = randomPrefix('shutdown');
  beforeAll(async () => {
    node = await new FakeMediaNode('slow').start();
    node.delayMs = 1_200; // every prepare stays in flight that long
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await node.stop();
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('SIGTERM during a burst: every request taken is answered, none is reset, the store outlives them, exit 0 within 5 s', async () => {
    const port = await closedPort();
    child = spawn(process.execPath, [MAIN], {
      cwd: __dirname, // no .env here: the environment below is the whole configuration
      env: {
        PATH: process.env.PATH ?? '',
        SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: String(port),
        RTP_CONTROL_URL: node.url, RTP_API_TOKEN: TOKEN, RTP_CONTROL_TIMEOUT_MS: '4000',
        RTP_HEALTH_INTERVAL_MS: '0', RTP_PRUNE_INTERVAL_SEC: '0',
        // The Redis store: if it closed before the in-flight prepares finished, they would fail.
        RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix,
        LOG_LEVEL: 'info',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child!.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out), 15_000, 'the service to listen');

    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    try {
      // A kept-alive idle connection, as a real client pool has.
      const warm = await prepare(port, agent, 'warm-up');
      expect(warm.status).toBe(201);

      const burst = Array.from({ length: 20 }, (_, i) => prepare(port, agent, `burst-${i}@example.com`, i === 0 ? 'req-burst-0' : undefined));
      // All 20 reached the (slow) media node: they are in flight in the service.
      await until(() => node.count('prepare') >= 21, 10_000, 'the burst to reach the media node');
      const sentAt = Date.now();
      child.kill('SIGTERM');
      // Requests that come after SIGTERM: refused at the door (new connections), never reset.
      await new Promise((r) => setTimeout(r, 100));
      const late = await Promise.all(Array.from({ length: 5 }, (_, i) => prepare(port, new http.Agent({ keepAlive: false }), `late-${i}`)));

      const answers = await Promise.all(burst);
      const { code, signal, at } = await exited;

      expect(answers.map((a) => a.status ?? a.error)).toEqual(Array(20).fill(201));
      expect(answers[0].requestId).toBe('req-burst-0');
      for (const l of late) {
        expect(l.error === undefined ? l.status : l.error).not.toMatch(/ECONNRESET|socket hang up/);
        expect(l.error ?? 'answered').toMatch(/^(answered|ECONNREFUSED)$/);
      }
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(at - sentAt).toBeLessThan(5_000);
    } finally {
      agent.destroy();
    }

    // Structured logs: JSON lines, a request id per request, the token never written.
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.length).toBeGreaterThan(10);
    const burst0 = lines.find((l) => l.req?.id === 'req-burst-0' && l.msg === 'request completed');
    expect(burst0).toMatchObject({ level: 30, res: { statusCode: 201 }, req: { method: 'POST', url: '/v1/calls', headers: { authorization: '[redacted]' } } });
    const ids = lines.filter((l) => l.msg === 'request completed').map((l) => l.req.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(21);
    expect(out).not.toContain(TOKEN);
    expect(lines.some((l) => l.context === 'shutdown' && /^SIGTERM: closing the listener, \d+ request\(s\) in flight$/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.context === 'shutdown' && /^stopped in \d+ ms$/.test(l.msg))).toBe(true);
  }, 40_000);

  it('SIGTERM while a prepare fails over (two black holes, then a good node): it finishes, and the leg is there exactly when the binding is', async () => {
    const holes = await Promise.all([new FakeMediaNode('hole-1').start(), new FakeMediaNode('hole-2').start()]);
    for (const h of holes) h.mode = 'blackhole';
    const good = await new FakeMediaNode('good').start();
    const failPrefix = randomPrefix('shutdown-failover');
    const store = new RedisPoolStore({ url: TEST_REDIS_URL, prefix: failPrefix });
    try {
      const port = await closedPort();
      child = spawn(process.execPath, [MAIN], {
        cwd: __dirname,
        env: {
          PATH: process.env.PATH ?? '',
          SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: String(port),
          // seed-1 and seed-2 never answer, seed-3 does: least-loaded tries them in that order.
          RTP_CONTROL_URLS: [holes[0].url, holes[1].url, good.url].join(','), RTP_API_TOKEN: TOKEN,
          RTP_CONTROL_TIMEOUT_MS: '1500', RTP_MAX_ATTEMPTS: '3', // worst case 4.5 s: the default shutdown timeout covers it
          RTP_HEALTH_INTERVAL_MS: '0', RTP_PRUNE_INTERVAL_SEC: '0', RTP_RECONCILE_INTERVAL_SEC: '0',
          RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: failPrefix, LOG_LEVEL: 'info',
        },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<{ code: number | null }>((resolve) => child!.on('exit', (code) => resolve({ code })));
      await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out), 15_000, 'the service to listen');
      const agent = new http.Agent({ keepAlive: true });
      try {
        const answer = prepare(port, agent, 'failing-over@example.com');
        await until(() => holes[0].count('prepare') === 1, 5_000, 'the first attempt');
        child.kill('SIGTERM');
        const a = await answer;
        const { code } = await exited;
        expect(a.status ?? a.error).toBe(201);
        expect(JSON.parse(a.body!).node_id).toBe('seed-3');
        expect([holes[0].count('prepare'), holes[1].count('prepare'), good.count('prepare')]).toEqual([1, 1, 1]);
        expect(code).toBe(0);
      } finally {
        agent.destroy();
      }
      // Converged: the leg on the good node exactly when the store binds the call to it.
      const bound = await store.getBinding('failing-over@example.com');
      expect(bound?.nodeId).toBe('seed-3');
      expect([...good.legs.keys()]).toEqual(['failing-over@example.com']);
    } finally {
      await store.close();
      await deleteKeys(TEST_REDIS_URL, failPrefix);
      await Promise.all([...holes, good].map((n) => n.stop()));
    }
  }, 40_000);

  it('open event streams end first: SIGTERM with streams open exits as fast as without (not after the 7 s timeout)', async () => {
    /** Starts dist/main.js on defaults (memory store), opens `streams` event streams, SIGTERMs it: ms to exit, and the streams. */
    const stopWith = async (streams: number) => {
      const port = await closedPort();
      const proc = spawn(process.execPath, [MAIN], {
        cwd: __dirname,
        env: { PATH: process.env.PATH ?? '', SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: String(port), RTP_API_TOKEN: TOKEN, LOG_LEVEL: 'info' },
      });
      child = proc;
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<{ code: number | null; at: number }>((resolve) => proc.on('exit', (code) => resolve({ code, at: Date.now() })));
      await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out), 15_000, 'the service to listen');
      const url = `http://127.0.0.1:${port}`;
      const clients = await Promise.all(Array.from({ length: streams }, (_, i) => SseClient.open(url, { token: TOKEN, lastEventId: i % 2 ? '0-0' : undefined })));
      expect(clients.map((c) => c.status)).toEqual(Array(streams).fill(200));
      const sentAt = Date.now();
      proc.kill('SIGTERM');
      const { code, at } = await exited;
      // Each stream was ended by the server (a clean end: an EventSource reconnects elsewhere), not reset.
      await Promise.all(clients.map((c) => c.body()));
      expect(code).toBe(0);
      expect(out).not.toMatch(/requests still in flight/);
      return at - sentAt;
    };
    const without = await stopWith(0);
    const withStreams = await stopWith(4);
    process.stdout.write(`SIGTERM to exit: ${without} ms without streams, ${withStreams} ms with 4 open\n`);
    // The default timeout is 7 s (3 × 2000 + 1000): a stream that held the server open would cost all of it.
    expect(withStreams).toBeLessThan(without + 1_500);
  }, 40_000);
});
