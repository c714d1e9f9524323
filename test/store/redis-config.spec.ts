import { loadAppConfig } from '../../src/config/app.config';
import { ConfigError } from '../../src/common/env';
import { Cluster, Redis } from 'ioredis';
import { createRedisClient, describeRedisTarget, isCluster, parseHostPorts } from '../../src/pool/store/redis-connection';
import { RedisPoolStore } from '../../src/pool/store/redis-pool.store';

/** REDIS_* and RTP_REDIS_* validation: one line naming the variable, never a secret. */
describe('Redis configuration', () => {
  const SECRET = 's3cr3t-Pa55';

  it('defaults: one server on localhost, no credentials, no WAIT', () => {
    const c = loadAppConfig({});
    expect(c.redis).toEqual({ url: 'redis://127.0.0.1:6379', username: undefined, password: undefined, tls: false });
    expect(c.redisWaitReplicas).toBe(0);
    expect(c.redisWaitTimeoutMs).toBe(500);
  });

  it('REDIS_URL with credentials and rediss:// (TLS implied)', () => {
    const c = loadAppConfig({ REDIS_URL: `rediss://app:${SECRET}@redis.example:6380/2` });
    expect(c.redis).toMatchObject({ url: `rediss://app:${SECRET}@redis.example:6380/2`, tls: true });
    expect(describeRedisTarget(c.redis)).toBe('single rediss://redis.example:6380/2');
  });

  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME, credentials and TLS from variables', () => {
    const c = loadAppConfig({
      REDIS_SENTINELS: 'a.example:26379, 10.0.0.2:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_USERNAME: 'app', REDIS_PASSWORD: SECRET, REDIS_TLS: 'true', RTP_REDIS_WAIT_REPLICAS: '1', RTP_REDIS_WAIT_TIMEOUT_MS: '250',
    });
    expect(c.redis).toEqual({
      sentinels: [{ host: 'a.example', port: 26379 }, { host: '10.0.0.2', port: 26379 }, { host: '::1', port: 26380 }],
      sentinelName: 'mymaster', username: 'app', password: SECRET, tls: true,
    });
    expect(c.redisWaitReplicas).toBe(1);
    expect(c.redisWaitTimeoutMs).toBe(250);
    expect(describeRedisTarget(c.redis)).toBe('sentinel mymaster via a.example:26379,10.0.0.2:26379,[::1]:26380');
  });

  it('REDIS_CLUSTER_NODES', () => {
    const c = loadAppConfig({ REDIS_CLUSTER_NODES: 'r1:7000,r2:7001', REDIS_PASSWORD: SECRET });
    expect(c.redis).toEqual({ clusterNodes: [{ host: 'r1', port: 7000 }, { host: 'r2', port: 7001 }], username: undefined, password: SECRET, tls: false });
    expect(describeRedisTarget(c.redis)).toBe('cluster r1:7000,r2:7001');
  });

  it.each([
    [{ REDIS_URL: 'redis://a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: cannot be combined with REDIS_URL'],
    [{ REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'c:3' }, 'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'b:2' }, 'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINEL_NAME: only applies with REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm y' }, 'REDIS_SENTINEL_NAME: may hold letters'],
    [{ REDIS_SENTINELS: 'b:2,nope', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: "nope" is not host:port'],
    [{ REDIS_SENTINELS: 'b:2,,c:3', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: has an empty item'],
    [{ REDIS_CLUSTER_NODES: 'c:70000' }, 'REDIS_CLUSTER_NODES: "c:70000" has a port outside 1..65535'],
    [{ REDIS_CLUSTER_NODES: 'http://c:7000' }, 'REDIS_CLUSTER_NODES: "http://c:7000" is not host:port'],
    [{ REDIS_URL: 'http://a:1' }, 'REDIS_URL: must use redis:// or rediss://'],
    [{ REDIS_URL: 'redis://a:1/x' }, 'REDIS_URL: path must be a database number'],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS: must be true or false'],
    [{ REDIS_URL: 'rediss://a:1', REDIS_TLS: 'false' }, 'REDIS_TLS: is false but REDIS_URL uses rediss://'],
    [{ RTP_REDIS_WAIT_REPLICAS: '-1' }, 'RTP_REDIS_WAIT_REPLICAS: must be between 0 and 64'],
    [{ RTP_REDIS_WAIT_REPLICAS: 'one' }, 'RTP_REDIS_WAIT_REPLICAS: must be an integer'],
    [{ RTP_REDIS_WAIT_TIMEOUT_MS: '0' }, 'RTP_REDIS_WAIT_TIMEOUT_MS: must be between 1 and 60000'],
  ])('%j → one line naming the variable', (env, msg) => {
    let err: unknown;
    try {
      loadAppConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(msg);
    expect((err as Error).message).not.toContain('\n');
  });

  it.each([
    [{ REDIS_URL: `not a url ${SECRET}` }, 'REDIS_URL: is not an absolute URL'],
    [{ REDIS_URL: `redis://u:${SECRET}@h:1/zz` }, 'REDIS_URL: path must be a database number'],
    [{ REDIS_URL: `redis://u:${SECRET}@h:1`, REDIS_PASSWORD: SECRET }, 'REDIS_PASSWORD: REDIS_URL holds a password too'],
    [{ REDIS_URL: `redis://u:${SECRET}@h:1`, REDIS_USERNAME: 'v' }, 'REDIS_USERNAME: REDIS_URL holds a user name too'],
  ])('no secret in the message: %#', (env, msg) => {
    expect(() => loadAppConfig(env)).toThrow(msg);
    try {
      loadAppConfig(env);
    } catch (e) {
      expect((e as Error).message).not.toContain(SECRET);
    }
  });

  it('parseHostPorts', () => {
    expect(parseHostPorts('h:1')).toEqual({ ok: [{ host: 'h', port: 1 }] });
    expect(parseHostPorts('h')).toEqual({ problem: '"h" is not host:port' });
    expect(parseHostPorts('-h:1')).toEqual({ problem: '"-h:1" is not host:port' });
  });

  it('the factory builds a Redis for single and sentinel, a Cluster for cluster (lazily, nothing connects)', () => {
    const single = createRedisClient({ url: 'redis://127.0.0.1:1' });
    const sentinel = createRedisClient({ sentinels: [{ host: '127.0.0.1', port: 1 }], sentinelName: 'm', password: SECRET });
    const cluster = createRedisClient({ clusterNodes: [{ host: '127.0.0.1', port: 1 }] });
    try {
      expect(single).toBeInstanceOf(Redis);
      expect(sentinel).toBeInstanceOf(Redis);
      expect(cluster).toBeInstanceOf(Cluster);
      expect([single, sentinel, cluster].map(isCluster)).toEqual([false, false, true]);
    } finally {
      for (const c of [single, sentinel, cluster]) c.disconnect();
    }
  });

  it('the store describes itself without the password', async () => {
    const store = new RedisPoolStore({ connection: { url: `redis://app:${SECRET}@127.0.0.1:1/3` }, commandTimeoutMs: 100 });
    try {
      const d = store.describe();
      expect(d).toMatchObject({ kind: 'redis', topology: 'single', target: 'single redis://127.0.0.1:1/3', connected: false, waitReplicas: 0 });
      expect(JSON.stringify(d)).not.toContain(SECRET);
    } finally {
      await store.close();
    }
  });
});
