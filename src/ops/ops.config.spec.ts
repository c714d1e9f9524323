import { loadAppConfig } from '../config/app.config';

describe('operations configuration', () => {
  it('has defaults', () => {
    expect(loadAppConfig({})).toMatchObject({ logLevel: 'info', logPretty: false, readyRequiresNode: false, shutdownTimeoutMs: 4000 });
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
