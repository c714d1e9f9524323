import { loadAppConfig } from './app.config';

describe('loadAppConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadAppConfig({})).toMatchObject({
      host: '0.0.0.0', port: 8080, nodeTtlSec: 45, seedUrls: [], pruneIntervalSec: 15, controlTimeoutMs: 2000,
      callTtlSec: 86400, maxAttempts: 3, strategy: 'least-loaded', httpAdapter: 'express', httpLean: true,
    });
  });
  it('reads the Go names: RTP_CONTROL_URLS wins over RTP_CONTROL_URL', () => {
    expect(loadAppConfig({ RTP_CONTROL_URLS: 'http://a:1/, http://b:2', RTP_CONTROL_URL: 'http://c:3' }).seedUrls).toEqual(['http://a:1', 'http://b:2']);
    expect(loadAppConfig({ RTP_CONTROL_URL: 'http://c:3/' }).seedUrls).toEqual(['http://c:3']);
  });
  it('RTP_PRUNE_CRON: a cron expression with seconds, unset by default', () => {
    expect(loadAppConfig({}).pruneCron).toBeUndefined();
    expect(loadAppConfig({ RTP_PRUNE_CRON: ' */15 * * * * * ', RTP_PRUNE_INTERVAL_SEC: '5' })).toMatchObject({ pruneCron: '*/15 * * * * *', pruneIntervalSec: 5 });
  });
  it.each([
    [{ SIP_CONTROL_PORT: 'abc' }, 'SIP_CONTROL_PORT: must be an integer, got "abc"'],
    [{ SIP_CONTROL_PORT: '70000' }, 'SIP_CONTROL_PORT: must be between 0 and 65535, got 70000'],
    [{ RTP_NODE_TTL_SEC: '-5' }, 'RTP_NODE_TTL_SEC: must be between 1'],
    [{ RTP_CALL_TTL_SEC: '1.5' }, 'RTP_CALL_TTL_SEC: must be an integer'],
    [{ RTP_CONTROL_URLS: 'http://ok:1,ftp://bad:2' }, 'RTP_CONTROL_URLS: "ftp://bad:2" must use http or https'],
    [{ RTP_CONTROL_URL: 'not a url' }, 'RTP_CONTROL_URL: "not a url" is not an absolute URL'],
    [{ RTP_SELECTION_STRATEGY: 'fastest' }, 'RTP_SELECTION_STRATEGY: must be one of'],
    [{ RTP_MAX_ATTEMPTS: '0' }, 'RTP_MAX_ATTEMPTS: must be between 1'],
    [{ RTP_PRUNE_CRON: '*/15 * * * *' }, 'RTP_PRUNE_CRON: must be a cron expression with seconds (6 fields'],
    [{ RTP_PRUNE_CRON: '*/15 * * * * nope' }, 'RTP_PRUNE_CRON: "*/15 * * * * nope" is not a valid cron expression'],
    [{ RTP_PRUNE_CRON: '99 * * * * *' }, 'RTP_PRUNE_CRON: "99 * * * * *" is not a valid cron expression'],
    [{ RTP_HTTP_ADAPTER: 'koa' }, 'RTP_HTTP_ADAPTER: must be one of express, fastify, got "koa"'],
  ])('%j → one line naming the variable', (env, msg) => {
    expect(() => loadAppConfig(env)).toThrow(msg);
    expect(() => loadAppConfig(env)).not.toThrow(/\n/);
  });
});
