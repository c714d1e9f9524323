import { FakeMediaNode } from '../support/fake-media-node';
import { randomPrefix } from '../support/redis';
import { POOL_STORE } from '../../src/pool/core/pool-store.interface';
import type { RedisPoolStore } from '../../src/pool/store/redis-pool.store';
import { redisInfo, SentinelTopology, waitFor } from '../support/redis-topologies';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Sentinel failover under load (slow tier): 1 master, 2 replicas, 3 sentinels, down-after
 * 1,000 ms, RTP_REDIS_WAIT_REPLICAS=1. The master is SIGKILLed while calls are being placed
 * through the real HTTP app. Only 201 or 503 {"error"} is answered; 201 comes back within
 * 15 s by itself; every call answered 201 is still bound on the new master.
 */
describe('Redis Sentinel failover', () => {
  jest.setTimeout(60_000);
  const topo = new SentinelTopology({ replicas: 2, sentinels: 3, downAfterMs: 1_000 });
  const prefix = randomPrefix('sentinel');
  let t: TestApp;
  let node: FakeMediaNode;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(t.url + path, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // kept as text: the assertion below shows it
    }
    return { status: res.status, body: parsed as Record<string, unknown> | undefined };
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    await topo.start();
    node = await new FakeMediaNode('n1').start();
    t = await createTestApp({
      listen: true,
      env: {
        RTP_STORE: 'redis', REDIS_SENTINELS: topo.sentinelList, REDIS_SENTINEL_NAME: topo.masterName, RTP_STORE_PREFIX: prefix,
        RTP_REDIS_WAIT_REPLICAS: '1', RTP_REDIS_WAIT_TIMEOUT_MS: '500', RTP_CONTROL_TIMEOUT_MS: '2000',
      },
    });
  }, 60_000);
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await t?.close();
    await node?.stop();
    await topo.stop();
  });

  it('readiness names the topology', async () => {
    const ready = await call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ info: { store: { status: 'up', topology: 'sentinel', connected: true, waitReplicas: 1 } } });
    expect(JSON.stringify(ready.body)).toContain(`sentinel ${topo.masterName} via 127.0.0.1:`);
  });

  it('SIGKILL of the master while calls are placed: only 201/503, 201 again within 15 s, no answered call lost', async () => {
    expect((await call('POST', '/v1/nodes/register', { node_id: 'n1', control_url: node.url })).status).toBe(200);
    const oldMaster = await topo.masterPort();
    const answers: { id: string; status: number; body: unknown; sent: number; at: number }[] = [];
    let seq = 0;
    let stop = false;
    let killedAt = 0;
    const readyDuring: number[] = [];
    const worker = async (w: number) => {
      while (!stop) {
        const id = `sentinel-${w}-${seq++}`;
        const sent = Date.now();
        const r = await call('POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
        answers.push({ id, status: r.status, body: r.body, sent, at: Date.now() });
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    await new Promise((r) => setTimeout(r, 1_000));
    killedAt = Date.now();
    await topo.server(oldMaster).kill();
    // Keep placing calls until 201 has come back steadily (1 s of answers after the first
    // post-kill 201 sent after a 503), at most 20 s.
    const recovered = () => {
      const firstFail = answers.find((a) => a.at >= killedAt && a.status !== 201);
      if (!firstFail) return undefined;
      return answers.find((a) => a.sent >= firstFail.at && a.status === 201);
    };
    try {
      await waitFor('201 after the failover', async () => {
        if (readyDuring.length < 1 && answers.some((a) => a.at >= killedAt && a.status === 503)) {
          readyDuring.push((await call('GET', '/health/ready')).status);
        }
        const r = recovered();
        return !!r && Date.now() - r.at > 1_000;
      }, 20_000, 100);
    } catch (e) {
      const store = t.get<RedisPoolStore>(POOL_STORE);
      const m = await topo.masterPort().catch(() => 0);
      const info = m ? await redisInfo(m, 'replication').catch((x) => String(x)) : 'no master';
      process.stdout.write(`no recovery: store ${JSON.stringify(store.describe())}; sentinels name ${m}; ${JSON.stringify(info)}\n`);
      throw e;
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    const back = recovered()!;
    const recoveryMs = back.at - killedAt;
    const newMaster = await topo.masterPort();
    const during = answers.filter((a) => a.at >= killedAt && a.at <= back.at);
    process.stdout.write(
      `sentinel failover: master ${oldMaster} → ${newMaster}; 201 again ${recoveryMs} ms after SIGKILL; `
      + `${answers.length} prepares (${answers.filter((a) => a.status === 201).length} × 201, ${answers.filter((a) => a.status === 503).length} × 503), `
      + `${during.length} answered in between\n`,
    );
    expect(newMaster).not.toBe(oldMaster);
    expect(recoveryMs).toBeLessThan(15_000);
    expect(readyDuring.every((s) => s === 503 || s === 200)).toBe(true);
    for (const a of answers) {
      if (a.status === 201) continue;
      expect({ status: a.status, body: a.body }).toEqual({ status: 503, body: { error: expect.any(String) } });
    }
    // No answered call lost: every 201 is still bound (read through the service, on the new master).
    const answered = answers.filter((a) => a.status === 201);
    const lost: string[] = [];
    for (let i = 0; i < answered.length; i += 50) {
      const chunk = answered.slice(i, i + 50);
      const got = await Promise.all(chunk.map((a) => call('GET', `/v1/calls/${encodeURIComponent(a.id)}`)));
      got.forEach((g, j) => {
        if (g.status !== 200) lost.push(`${chunk[j].id}: ${g.status}`);
      });
    }
    expect(lost).toEqual([]);
    const ready = await call('GET', '/health/ready');
    expect(ready.body).toMatchObject({ info: { store: { status: 'up', topology: 'sentinel', connected: true } } });
    expect(unhandled).toEqual([]);
  });
});
