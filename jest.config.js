// swc instead of ts-jest: NestJS 12 is ESM-only and jest cannot require() ESM on Node 20,
// so @nestjs/* is transpiled to CommonJS too (see docs/TOOLCHAIN notes). Types are checked
// by `npm run typecheck` (tsc --noEmit), which `npm test` runs first.
const swc = (parser) => ['@swc/jest', {
  jsc: { parser, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
  module: { type: 'commonjs' },
}];

// Three tiers. `npm run test:fast` runs unit + e2e; `npm test` (and CI) runs all three.
// `slow`: suites that take many seconds alone (fuzzing, the bench smoke run, fault and
// balance floods, the Chromium dashboard) or spawn the built `dist/` (they need
// `npm run build` first; test/support/dist.ts refuses a missing or stale build).
// Times: each suite alone on the 2-core dev box, serial run. A new suite lands in unit or
// e2e by its name; move it here when it takes more than a few seconds.
const SLOW = [
  'fuzz.e2e-spec', 'bench-smoke.e2e-spec', 'faults.e2e-spec', 'dashboard.e2e-spec', // ~105 s, ~89 s, ~57 s, ~17 s
  'balance.e2e-spec', 'balance-multi-instance.e2e-spec', // 500 and 200 prepare floods: ~15 s, ~6 s
  'legs-redis-stall.e2e-spec', 'reconcile.e2e-spec', 'legs-property.e2e-spec', // no leg left behind: ~9 s, ~12 s, ~100 s (one and two instances)
  'main.e2e-spec', 'shutdown.e2e-spec', 'security-startup.e2e-spec', 'e2e-call-process.e2e-spec', // spawn dist/: ~4-6 s each
  'fuzz-gate.e2e-spec', 'media-node-logging.e2e-spec', // 7,000 hostile bodies: ~85 s; spawns dist/media-node
  'redis-sentinel.e2e-spec', 'redis-cluster.e2e-spec', // start their own Redis topologies: ~10-15 s each
  'live-failover-process.e2e-spec', 'media-node-drain.e2e-spec', // spawn dist/ (a media node SIGKILLed, one drained): ~8 s, ~6 s
  'live-calls-redis.e2e-spec', // two instances on Redis with real waits (drain deadline, event tails): ~25 s
  'sip-edge.e2e-spec', // real Kamailio and SIPp (provisioned like Chromium), media node and instance kills
  'edge-companion.e2e-spec', // spawns dist/edge-companion: ~4 s
  'sip-edge-move.e2e-spec', // a media node SIGKILLed under SIPp calls, its calls moved by dist/edge-companion, and a drain's: ~27 s
];
const slowPattern = `/test/(${SLOW.map((n) => n.replace(/[.-]/g, '\\$&')).join('|')})\\.ts$`;
/**
 * Slow suites whose subject is the HTTP front (hostile bodies, the JSON gate, the dashboard in Chromium, graceful
 * shutdown, the service process as deployed): run again on Fastify, as the e2e tier is. The others (floods, Redis
 * topologies, the legs property, the media node) do not depend on the adapter.
 */
const SLOW_FASTIFY = ['fuzz.e2e-spec', 'fuzz-gate.e2e-spec', 'dashboard.e2e-spec', 'shutdown.e2e-spec', 'main.e2e-spec', 'security-startup.e2e-spec'];
const ignore = ['/node_modules/', '/dist/'];

const base = {
  testEnvironment: 'node',
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|file-type|strtok3|token-types|uint8array-extras|@tokenizer|@fastify/static|content-disposition)/)'],
  transform: {
    '^.+\\.ts$': swc({ syntax: 'typescript', decorators: true }),
    '^.+\\.m?js$': swc({ syntax: 'ecmascript' }),
  },
  // The package's own name, as examples/ and a user's tests import it (tsconfig.json: paths).
  moduleNameMapper: {
    '^rtp-pool$': '<rootDir>/src/index.ts',
    '^rtp-pool/testing$': '<rootDir>/src/testing/index.ts',
  },
  testTimeout: 20000,
};

// The e2e tier once more, with every createTestApp app on Fastify (RTP_TEST_ADAPTER=fastify,
// set by test/fastify-adapter.setup.ts): one set of tests, two adapters. The slow tier runs on
// Express in `npm test`; `RTP_TEST_ADAPTER=fastify npx jest --selectProjects slow` runs it on Fastify.
const e2eFastify = {
  ...base,
  displayName: 'e2e-fastify',
  testMatch: ['<rootDir>/test/*.e2e-spec.ts'],
  testPathIgnorePatterns: [...ignore, slowPattern],
  setupFiles: ['<rootDir>/test/fastify-adapter.setup.ts'],
};

module.exports = {
  testTimeout: base.testTimeout,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/*.spec.ts'], testPathIgnorePatterns: [...ignore, slowPattern] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/*.e2e-spec.ts'], testPathIgnorePatterns: [...ignore, slowPattern] },
    e2eFastify,
    { ...base, displayName: 'slow', testMatch: SLOW.map((n) => `<rootDir>/test/${n}.ts`), testPathIgnorePatterns: ignore },
    { ...e2eFastify, displayName: 'slow-fastify', testMatch: SLOW_FASTIFY.map((n) => `<rootDir>/test/${n}.ts`), testPathIgnorePatterns: ignore },
  ],
};
