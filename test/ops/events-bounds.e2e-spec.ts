import * as net from 'node:net';
import { EventStreams } from '../../src/http/events/event-streams';
import { EventFeed } from '../../src/pool/events/event-feed.service';
import { compareEventIds, waitFor } from '../support/live';
import { deleteKeys, randomPrefix, RedisChild, TEST_REDIS_URL } from '../support/redis';
import { SseClient } from '../support/sse-client';
import { createTestApp, type TestApp } from '../support/test-app';
import { CaptureLogger } from '../support/capture-logger';


/** A node id long enough that a record weighs ~230 bytes, as real ones do. */
const LONG = 'node-'.padEnd(120, 'x');

/** Publishes `n` events through the pool's own feed (the path every part of the pool uses). */
async function publish(t: TestApp, n: number, tag = 'e'): Promise<string[]> {
  const feed = t.get(EventFeed);
  const ids: string[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, k) =>
      feed.publish('node_down', { node_id: `${LONG}-${tag}${i + k}`, reason: 'probe', bound_calls: i + k })));
    ids.push(...batch.map((e) => e!.id));
  }
  return ids;
}

/**
 * A client that sends `GET /v1/events` and never reads past the answer's head: the server's
 * writes pile up in the kernel, then in the response's buffer.
 */
function stalledClient(url: string, o: { lastEventId?: string; token?: string } = {}): Promise<{ socket: net.Socket; head: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET /v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n`
        + (o.lastEventId ? `Last-Event-ID: ${o.lastEventId}\r\n` : '')
        + (o.token ? `Authorization: Bearer ${o.token}\r\n` : '') + '\r\n');
    });
    socket.once('data', (d: Buffer) => {
      socket.pause();
      resolve({ socket, head: d.toString('latin1').split('\r\n')[0] });
    });
    socket.on('error', () => undefined);
    socket.once('close', () => reject(new Error('closed before an answer')));
  });
}

/** Resolves with whether the server closed `socket` within `ms` (reading what it holds, to see the end). */
function closedByServer(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    socket.resume();
  });
}

/** `GET /health` latencies (ms), one every `everyMs`, until `stop()` holds. */
async function probeHealth(url: string, everyMs: number, stop: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!stop()) {
    const t0 = performance.now();
    const res = await fetch(`${url}/health`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return out;
}

/** One more reconnect after the publishing stopped: reads what `got` lacks of `published` (and anything more that comes). */
async function catchUp(t: TestApp, got: string[], published: string[], clients: SseClient[]): Promise<void> {
  const from = got[got.length - 1];
  const c = await SseClient.open(t.url, { lastEventId: from });
  clients.push(c);
  const missing = published.length - 1 - published.indexOf(from);
  await c.until((x) => x.records.length >= missing, 10_000);
  await new Promise((r) => setTimeout(r, 100));
  got.push(...c.records.map((r) => r.id!));
}

const strictlyIncreasing = (ids: string[]) => ids.every((id, i) => i === 0 || compareEventIds(ids[i - 1], id) < 0);

describe('GET /v1/events has bounds (memory store)', () => {
  let t: TestApp;
  const sockets: net.Socket[] = [];
  const clients: SseClient[] = [];
  const start = async (env: Record<string, string> = {}) => {
    t = await createTestApp({ env: { RTP_EVENTS_PING_MS: '200', ...env }, listen: true });
  };
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.destroy());
    clients.splice(0).forEach((c) => c.close());
    await t?.close();
  });

  it('500 non-reading clients replaying 10,000 events do not stall /health; a reading one still gets all 10,000 in order', async () => {
    // Pings far apart: no stalled stream is dropped for not draining while this measures.
    await start({ RTP_EVENTS_PING_MS: '15000' });
    const ids = await publish(t, 10_000);
    const streams = t.get(EventStreams);
    const rss0 = process.memoryUsage().rss;
    const stalled = await Promise.all(Array.from({ length: 500 }, () => stalledClient(t.url, { lastEventId: '0-0' })));
    sockets.push(...stalled.map((s) => s.socket));
    expect(new Set(stalled.map((s) => s.head))).toEqual(new Set(['HTTP/1.1 200 OK']));
    const reader = await SseClient.open(t.url, { lastEventId: '0-0' });
    clients.push(reader);
    const started = Date.now();
    // While the replays run, and at least a second (they may all be done sooner).
    const health = probeHealth(t.url, 20, () => reader.records.length >= ids.length && Date.now() - started > 1_000);
    await reader.until((c) => c.records.length >= ids.length, 60_000);
    const latencies = (await health).sort((a, b) => a - b);
    const rss = process.memoryUsage().rss - rss0;
    process.stdout.write(`/health during 500 stalled replays: n=${latencies.length} median ${latencies[latencies.length >> 1].toFixed(1)} ms, `
      + `max ${latencies[latencies.length - 1].toFixed(1)} ms; RSS +${(rss / 2 ** 20).toFixed(0)} MiB\n`);
    expect(reader.records.map((r) => r.id)).toEqual(ids);
    expect(streams.size).toBe(501);
    expect(latencies.length).toBeGreaterThan(3);
    // Unbounded, this was ~20 s (500 clients) and 3 GB: the bound leaves room for a loaded CI machine.
    expect(latencies[latencies.length - 1]).toBeLessThan(500);
    expect(rss).toBeLessThan(400 * 2 ** 20);
  }, 120_000);

  it('a live subscriber that stops reading is dropped past RTP_EVENTS_BUFFER_BYTES (logged); a reading one is not', async () => {
    await start({ RTP_EVENTS_BUFFER_BYTES: '65536', RTP_EVENTS_PING_MS: '15000' });
    const logs = new CaptureLogger();
    t.app.useLogger(logs);
    const streams = t.get(EventStreams);
    const { socket } = await stalledClient(t.url);
    sockets.push(socket);
    const reader = await SseClient.open(t.url);
    clients.push(reader);
    await waitFor(() => streams.size === 2);
    // Enough to fill the loopback socket's kernel buffers, then the response's own: bursts of
    // 100 events (23 kB), each alone smaller than the cap, many together much bigger.
    let sent = 0;
    while (streams.size === 2 && sent < 100_000) {
      sent += (await publish(t, 100, `d${sent}`)).length;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(streams.size).toBe(1);
    expect(await closedByServer(socket, 5_000)).toBe(true);
    await reader.until((c) => c.records.length === sent, 20_000);
    expect(strictlyIncreasing(reader.records.map((r) => r.id!))).toBe(true);
    expect(logs.matching(/event subscriber dropped: \d+ bytes unread/)).toHaveLength(1);
  }, 60_000);

  it('a replaying subscriber that does not read is dropped when its connection does not drain between two pings', async () => {
    await start({ RTP_EVENTS_PING_MS: '300' });
    // More than the loopback socket's kernel buffers take (several MB), so the response's own buffer fills.
    await publish(t, 60_000);
    const streams = t.get(EventStreams);
    const { socket } = await stalledClient(t.url, { lastEventId: '0-0' });
    sockets.push(socket);
    await waitFor(() => streams.size === 0, 5_000);
    expect(await closedByServer(socket, 2_000)).toBe(true);
  });

  it('past RTP_EVENTS_MAX_SUBSCRIBERS: 503 {"error"} with Retry-After; a place freed is taken again', async () => {
    await start({ RTP_EVENTS_MAX_SUBSCRIBERS: '2' });
    const a = await SseClient.open(t.url);
    const b = await SseClient.open(t.url);
    clients.push(a, b);
    const c = await SseClient.open(t.url);
    expect(c.status).toBe(503);
    expect(c.headers['retry-after']).toBe('5');
    expect(JSON.parse(await c.body())).toEqual({ error: 'too many event streams open (2); retry later' });
    a.close();
    await waitFor(() => t.get(EventStreams).size === 1);
    const d = await SseClient.open(t.url);
    clients.push(d);
    expect(d.status).toBe(200);
  });

  it('ids strictly increase with none missing across 40 reconnects while events are published', async () => {
    await start();
    const published: string[] = [];
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        published.push(...(await publish(t, 5, `p${published.length}`)));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const got: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const c = await SseClient.open(t.url, { lastEventId: got[got.length - 1] ?? '0-0' });
        await c.until((x) => x.records.length >= 3, 5_000);
        c.close();
        got.push(...c.records.map((r) => r.id!));
      }
    } finally {
      publishing = false;
      await publisher;
    }
    await catchUp(t, got, published, clients);
    expect(strictlyIncreasing(got)).toBe(true);
    expect(got).toEqual(published);
  }, 60_000);

  it('?last_event_id given twice: 400 {"error"} naming it', async () => {
    await start();
    const res = await fetch(`${t.url}/v1/events?last_event_id=1-0&last_event_id=2-0`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'last_event_id must be given once' });
    expect(t.get(EventStreams).size).toBe(0);
  });

  it('needs the API token when RTP_API_TOKEN is set', async () => {
    await start({ RTP_API_TOKEN: 'tok' });
    const none = await SseClient.open(t.url);
    expect(none.status).toBe(401);
    expect(JSON.parse(await none.body())).toHaveProperty('error');
    const wrong = await SseClient.open(t.url, { token: 'nope' });
    expect(wrong.status).toBe(401);
    const ok = await SseClient.open(t.url, { token: 'tok' });
    clients.push(ok);
    expect(ok.status).toBe(200);
  });
});

describe('GET /v1/events has bounds (Redis store)', () => {
  const clients: SseClient[] = [];
  afterEach(() => clients.splice(0).forEach((c) => c.close()));

  it('a replay Redis cannot serve (stalled) ends the stream with an error record and a log line; the reconnect misses nothing', async () => {
    const redis = await new RedisChild().start();
    const t = await createTestApp({ env: { RTP_STORE: 'redis', REDIS_URL: redis.url, RTP_STORE_PREFIX: randomPrefix('ev-stall') }, listen: true });
    try {
      const logs = new CaptureLogger();
      t.app.useLogger(logs);
      const ids = await publish(t, 2_000);
      redis.freeze();
      const first = await SseClient.open(t.url, { lastEventId: '0-0' });
      clients.push(first);
      expect(first.status).toBe(200);
      await first.body(); // the server ends the stream
      redis.thaw();
      const errors = first.of('error');
      expect(errors).toHaveLength(1);
      expect(first.records[first.records.length - 1]).toEqual({ event: 'error', data: { error: expect.stringMatching(/^replay failed: .+; reconnect with Last-Event-ID$/) } });
      expect(logs.matching(/^event replay after 0-0 failed \(.+\): stream ended/)).toHaveLength(1);
      const seen = first.records.filter((r) => r.event !== 'error').map((r) => r.id!);
      const again = await SseClient.open(t.url, { lastEventId: seen[seen.length - 1] ?? '0-0' });
      clients.push(again);
      await again.until((c) => c.records.length === ids.length - seen.length, 10_000);
      expect([...seen, ...again.records.map((r) => r.id!)]).toEqual(ids);
    } finally {
      redis.thaw();
      await t.close();
      await redis.kill();
    }
  }, 30_000);

  it('two instances: ids strictly increase with none missing across 40 reconnects alternating instances while both publish', async () => {
    const prefix = randomPrefix('ev-handover');
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix };
    const [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
    try {
      const published: string[] = [];
      let publishing = true;
      const publisher = (t: TestApp, tag: string) => (async () => {
        while (publishing) {
          published.push(...(await publish(t, 3, `${tag}${published.length}`)));
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      const pubs = [publisher(a, 'a'), publisher(b, 'b')];
      const got: string[] = [];
      try {
        for (let i = 0; i < 40; i++) {
          const c = await SseClient.open((i % 2 ? b : a).url, { lastEventId: got[got.length - 1] ?? '0-0' });
          await c.until((x) => x.records.length >= 3, 5_000);
          c.close();
          got.push(...c.records.map((r) => r.id!));
        }
      } finally {
        publishing = false;
        await Promise.all(pubs);
      }
      published.sort(compareEventIds);
      await catchUp(a, got, published, clients);
      expect(strictlyIncreasing(got)).toBe(true);
      expect(got).toEqual(published);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await deleteKeys(TEST_REDIS_URL, `{${prefix}`);
    }
  }, 60_000);

  it('a Redis outage under the event tail logs one warning, and one line when the tail reads again', async () => {
    const redis = await new RedisChild().start();
    const t = await createTestApp({ env: { RTP_STORE: 'redis', REDIS_URL: redis.url, RTP_STORE_PREFIX: randomPrefix('ev-outage') }, listen: true });
    try {
      const logs = new CaptureLogger();
      t.app.useLogger(logs);
      const c = await SseClient.open(t.url);
      clients.push(c);
      await redis.kill();
      // Long enough for ~10 retries of the tail (every 500 ms).
      await new Promise((r) => setTimeout(r, 5_000));
      await redis.start();
      await waitFor(() => logs.matching(/^event tail ran again after \d+ failed run\(s\)$/).length === 1, 15_000);
      const failures = logs.matching(/^event tail failed: /);
      process.stdout.write(`event tail lines during a 5 s outage: ${JSON.stringify(failures.map((l) => l.msg))}\n`);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures.length).toBeLessThanOrEqual(2);
      expect(failures.every((l) => l.level === 'warn')).toBe(true);
      // The tail works again: an event published now reaches the open stream.
      const [id] = await publish(t, 1, 'after');
      await c.until((x) => x.records.some((r) => r.id === id), 10_000);
    } finally {
      await t.close();
      await redis.kill();
    }
  }, 40_000);

  it('an instance restarted while events are published: the reconnect to it continues the ids, none twice, none missing', async () => {
    const prefix = randomPrefix('ev-restart');
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix };
    const a = await createTestApp({ env, listen: true });
    let b = await createTestApp({ env, listen: true });
    try {
      const published: string[] = [];
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          published.push(...(await publish(a, 3, `r${published.length}`)));
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      const got: string[] = [];
      try {
        for (let i = 0; i < 12; i++) {
          const c = await SseClient.open(b.url, { lastEventId: got[got.length - 1] ?? '0-0' });
          await c.until((x) => x.records.length >= 5, 5_000);
          c.close();
          got.push(...c.records.map((r) => r.id!));
          await b.close();
          b = await createTestApp({ env, listen: true });
        }
      } finally {
        publishing = false;
        await publisher;
      }
      await catchUp(b, got, published, clients);
      expect(strictlyIncreasing(got)).toBe(true);
      expect(got).toEqual(published);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await deleteKeys(TEST_REDIS_URL, `{${prefix}`);
    }
  }, 60_000);
});
