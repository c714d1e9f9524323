import { loadAppConfig } from '../../src/config/app.config';
import { closedPort, FakeMediaNode } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, RedisChild } from '../support/redis';
import { createTestApp, TEST_ENV, type TestApp } from '../support/test-app';

/**
 * Redis goes away under a running instance: a redis-server of the test's own (another
 * port) is killed, frozen, and brought back. Calls and registry answer 503
 * {"error":"store unavailable"} within the control timeout, and the instance recovers
 * by itself.
 */
describe('Redis outage', () => {
  const controlTimeoutMs = Number(TEST_ENV.RTP_CONTROL_TIMEOUT_MS);
  const redis = new RedisChild();
  const prefix = randomPrefix('outage');
  let t: TestApp;
  let node: FakeMediaNode;

  const call = async (method: string, path: string, body?: unknown) => {
    const t0 = performance.now();
    const res = await fetch(t.url + path, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: performance.now() - t0 };
  };
  const register = () => call('POST', '/v1/nodes/register', { node_id: 'n1', control_url: node.url });
  const prepare = (id: string) => call('POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
  /** Retries `fn` every 100 ms (at most `ms`) until it answers `status`. */
  const until = async (fn: () => ReturnType<typeof call>, status: number, ms = 15_000) => {
    const t0 = Date.now();
    for (;;) {
      const r = await fn();
      if (r.status === status || Date.now() - t0 > ms) return { ...r, after: Date.now() - t0 };
      await new Promise((res) => setTimeout(res, 100));
    }
  };

  /** Every calls and registry path answers 503 store unavailable, each within the control timeout. */
  const expectUnavailable = async () => {
    const answers = await Promise.all([
      prepare('during-outage'), register(), call('GET', '/v1/nodes'), call('GET', '/v1/nodes/n1'),
      call('GET', '/v1/calls/c1'), call('POST', '/v1/calls/c1/start'), call('DELETE', '/v1/calls/never-bound-here'),
      call('POST', '/v1/nodes/n1/drain'), call('DELETE', '/v1/nodes/n1'),
    ]);
    process.stdout.write(`outage answers: slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms\n`);
    for (const a of answers) {
      expect({ status: a.status, body: a.body }).toEqual({ status: 503, body: { error: 'store unavailable' } });
      expect(a.ms).toBeLessThan(controlTimeoutMs);
    }
  };

  beforeAll(async () => {
    await redis.start();
    node = await new FakeMediaNode('n1').start();
    t = await createTestApp({ env: { RTP_STORE: 'redis', REDIS_URL: redis.url, RTP_STORE_PREFIX: prefix }, listen: true });
  });
  afterAll(async () => {
    await t?.close();
    await node?.stop();
    await redis.kill();
  });

  it('serves while Redis is up', async () => {
    expect((await register()).status).toBe(200);
    expect((await prepare('c1')).status).toBe(201);
  });

  it('Redis killed: 503 store unavailable quickly on every path; the process stays up; recovery when it is back', async () => {
    await redis.kill();
    await expectUnavailable();
    // A BYE of a call this instance bound still reaches its node (CONTRACT §7): 204, the
    // store's half is finished once Redis answers again.
    expect((await call('DELETE', '/v1/calls/c1')).status).toBe(204);
    expect(node.legs.has('c1')).toBe(false);
    // Still up and still failing fast a little later (reconnect attempts going on).
    await new Promise((r) => setTimeout(r, 300));
    await expectUnavailable();

    await redis.start(); // same port, empty (no persistence): the node must re-register
    const back = await until(register, 200);
    expect(back.status).toBe(200);
    expect(back.after).toBeLessThan(5_000);
    process.stdout.write(`recovered ${back.after} ms after redis-server was back\n`);
    const prep = await prepare('after-restart');
    expect(prep.status).toBe(201);
    expect(node.legs.has('after-restart')).toBe(true);
    expect((await call('DELETE', '/v1/calls/after-restart')).status).toBe(204);
  });

  it('Redis hanging (SIGSTOP): 503 within the control timeout, not a hang; recovery on SIGCONT', async () => {
    expect((await prepare('before-freeze')).status).toBe(201);
    redis.freeze();
    try {
      const frozen = await prepare('frozen');
      expect({ status: frozen.status, body: frozen.body }).toEqual({ status: 503, body: { error: 'store unavailable' } });
      expect(frozen.ms).toBeLessThan(controlTimeoutMs);
      process.stdout.write(`frozen Redis: 503 after ${Math.round(frozen.ms)} ms\n`);
      const list = await call('GET', '/v1/nodes');
      expect(list.status).toBe(503);
      expect(list.ms).toBeLessThan(controlTimeoutMs);
    } finally {
      redis.thaw();
    }
    const back = await until(() => call('GET', '/v1/calls/before-freeze'), 200);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ call_id: 'before-freeze', node_id: 'n1' });
    expect((await prepare('after-thaw')).status).toBe(201);
    // The frozen prepare failed at its first store read: it placed nothing, bound nothing.
    expect((await call('GET', '/v1/calls/frozen')).status).toBe(404);
    expect(node.legs.has('frozen')).toBe(false);
    await deleteKeys(redis.url, prefix);
  });
});

describe('Redis down at start-up', () => {
  it('without static seeds the instance starts and answers 503 store unavailable until Redis is there', async () => {
    const port = await closedPort();
    const t = await createTestApp({ env: { RTP_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}`, RTP_STORE_PREFIX: randomPrefix('boot') }, listen: true });
    try {
      const res = await fetch(`${t.url}/v1/nodes`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'store unavailable' });
    } finally {
      await t.close();
    }
  });

  it('with static seeds start-up fails (the seeds cannot be stored), naming the store', async () => {
    const port = await closedPort();
    await expect(createTestApp({
      env: { RTP_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}`, RTP_CONTROL_URLS: 'http://127.0.0.1:1' },
    })).rejects.toThrow('store unavailable');
  });
});

describe('store configuration', () => {
  it('RTP_STORE, REDIS_URL and RTP_STORE_PREFIX: defaults and errors naming the variable', () => {
    expect(loadAppConfig({})).toMatchObject({ store: 'memory', redisUrl: 'redis://127.0.0.1:6379', storePrefix: 'rtp-pool:' });
    expect(loadAppConfig({ RTP_STORE: 'redis', REDIS_URL: 'rediss://u:p@h:6380/2', RTP_STORE_PREFIX: 'x:' }))
      .toMatchObject({ store: 'redis', redisUrl: 'rediss://u:p@h:6380/2', storePrefix: 'x:' });
    expect(() => loadAppConfig({ RTP_STORE: 'postgres' })).toThrow(/^RTP_STORE: must be one of memory, redis/);
    expect(() => loadAppConfig({ REDIS_URL: 'http://h:6379' })).toThrow(/^REDIS_URL: must use redis:\/\/ or rediss:\/\//);
    // The value is not echoed: a REDIS_URL may hold a password.
    expect(() => loadAppConfig({ REDIS_URL: 'nope' })).toThrow(/^REDIS_URL: is not an absolute URL/);
  });
});
