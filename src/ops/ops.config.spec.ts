import { loadAppConfig } from '../config/app.config';

describe('operations configuration', () => {
  it('has defaults', () => {
    // The shutdown timeout covers the worst-case prepare: RTP_MAX_ATTEMPTS × RTP_CONTROL_TIMEOUT_MS + 1 s.
    expect(loadAppConfig({})).toMatchObject({ logLevel: 'info', logPretty: false, readyRequiresNode: false, shutdownTimeoutMs: 7000 });
    expect(loadAppConfig({ RTP_MAX_ATTEMPTS: '4', RTP_CONTROL_TIMEOUT_MS: '2500' }).shutdownTimeoutMs).toBe(11_000);
    expect(loadAppConfig({ RTP_MAX_ATTEMPTS: '1', RTP_CONTROL_TIMEOUT_MS: '500' }).shutdownTimeoutMs).toBe(4000);
    expect(loadAppConfig({}).reconcileIntervalSec).toBe(60);
    expect(loadAppConfig({ RTP_RECONCILE_INTERVAL_SEC: '0' }).reconcileIntervalSec).toBe(0);
  });

  it('reads LOG_LEVEL, RTP_READY_REQUIRES_NODE and RTP_SHUTDOWN_TIMEOUT_MS', () => {
    expect(loadAppConfig({ LOG_LEVEL: 'debug', RTP_READY_REQUIRES_NODE: 'true', RTP_SHUTDOWN_TIMEOUT_MS: '2500', LOG_PRETTY: 'yes' }))
      .toMatchObject({ logLevel: 'debug', readyRequiresNode: true, shutdownTimeoutMs: 2500, logPretty: true });
  });

  it('names the bad variable', () => {
    expect(() => loadAppConfig({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(() => loadAppConfig({ RTP_READY_REQUIRES_NODE: 'maybe' })).toThrow(/^RTP_READY_REQUIRES_NODE: must be true or false/);
    expect(() => loadAppConfig({ RTP_SHUTDOWN_TIMEOUT_MS: '-1' })).toThrow(/^RTP_SHUTDOWN_TIMEOUT_MS: must be between 0 and 60000/);
  });
});
