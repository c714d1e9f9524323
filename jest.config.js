const os = require('node:os');

// swc instead of ts-jest: NestJS 12 is ESM-only and jest cannot require() ESM on Node 20,
// so @nestjs/* is transpiled to CommonJS too (see docs/TOOLCHAIN notes). Types are checked
// by `npm run typecheck` (tsc --noEmit), which `npm test` runs first.
const swc = (parser) => ['@swc/jest', {
  jsc: { parser, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
  module: { type: 'commonjs' },
}];

/**
 * Projects (docs/testing.md). `npm test` runs unit, e2e, e2e-fastify, slow and slow-fastify;
 * `npm run test:long` runs long; `npm run test:all` runs both, each suite once.
 *
 * Suites are chosen by folder and name, never by a list of every file: `*.spec.ts` is unit,
 * `*.e2e-spec.ts` is e2e (and e2e-fastify, unless its folder or name is listed as adapter-neutral
 * below), and the names below move a suite to slow or long wherever it lives under test/.
 * A suite added flat under test/ is therefore picked up as unit or e2e.
 *
 * The seconds are each suite's own time (jest --json: endTime - startTime, the longer of its two adapters) in
 * a fresh clone's `npm test` on the 2-core dev box, two workers, other work sharing the box (load average 7-14);
 * the sequencer below starts the longest first so that the two workers finish together.
 */
const SLOW = {
  // no leg left behind: random interleavings on one and two instances (reconciliation's grace is most of it)
  'legs-property.e2e-spec': 94,
  'faults.e2e-spec': 39, 'balance.e2e-spec': 11, 'balance-multi-instance.e2e-spec': 4, // floods (12,000 registrations; 500 and 200 prepares)
  'fuzz-gate.e2e-spec': 19, 'fuzz.e2e-spec': 13, // property fuzzing of the JSON gate and of the HTTP surface
  'dashboard.e2e-spec': 11, // headless Chromium
  'reconcile.e2e-spec': 13, 'legs-redis-stall.e2e-spec': 10, 'live-calls-redis.e2e-spec': 4, // real reconciliation rounds, Redis SIGSTOPped, drain deadlines
  'redis-sentinel.e2e-spec': 9, 'redis-cluster.e2e-spec': 9, // their own Redis topologies on fixed ports
  // spawn the built dist/ (test/support/dist.ts refuses a missing or stale build)
  'live-failover-process.e2e-spec': 14, 'shutdown.e2e-spec': 12, 'media-node-logging.e2e-spec': 9, 'security-startup.e2e-spec': 8,
  'media-node-drain.e2e-spec': 8, 'main.e2e-spec': 4, 'e2e-call-process.e2e-spec': 2,
  'bin.e2e-spec': 2, 'root-import.e2e-spec': 2, 'public-api-doc.e2e-spec': 8, // spawn dist/bin; read dist/ (index.js loaded by node; index.d.ts against docs/public-api.md)
  'events-bounds.e2e-spec': 25, // 500 stalled replays of 10,000 events, a live stream filled past its cap, Redis stalls
  'sip-edge.e2e-spec': 55, // real Kamailio and SIPp (provisioned like Chromium), media node and instance kills
  'sip-edge-move.e2e-spec': 27, 'edge-companion.e2e-spec': 4, // a media node SIGKILLed under SIPp calls, its calls moved by dist/edge-companion; the companion's reconnects
};
/** Suites whose subject is not rtp-pool itself: `npm run bench -- --smoke` keeps the benchmark scripts working. */
const LONG = { 'bench-smoke.e2e-spec': 120 }; // npm run test:long alone, load average 13
/**
 * Slow suites whose subject is the HTTP front (hostile bodies, the JSON gate, the dashboard in Chromium, graceful
 * shutdown, the service process as deployed): run again on Fastify, as the e2e tier is.
 */
const SLOW_FASTIFY = ['fuzz.e2e-spec', 'fuzz-gate.e2e-spec', 'dashboard.e2e-spec', 'shutdown.e2e-spec', 'main.e2e-spec', 'security-startup.e2e-spec',
  'events-bounds.e2e-spec',
];
/**
 * e2e suites whose subject does not depend on the HTTP adapter run on Express only: the folders of the
 * store and the reference media node (and its token check), and the pool's own decisions (selection, health, circuit, load).
 */
const ADAPTER_NEUTRAL_FOLDERS = ['store', 'media-node'];
const ADAPTER_NEUTRAL = ['strategies.e2e-spec', 'custom-strategy.e2e-spec', 'health.e2e-spec', 'health-shared.e2e-spec', 'circuit.e2e-spec', 'load-accounting.e2e-spec', 'security-media-node.e2e-spec'];

const esc = (s) => s.replace(/[.\-]/g, '\\$&');
/** A path pattern for these suite names in any folder under test/. */
const named = (names) => `/test/(?:[^/]+/)*(?:${names.map(esc).join('|')})\\.ts$`;
const anywhere = (names) => names.map((n) => `<rootDir>/test/**/${n}.ts`);
const ignore = ['/node_modules/', '/dist/'];
const notSlow = [...ignore, named([...Object.keys(SLOW), ...Object.keys(LONG)])];

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

// Every createTestApp app on Fastify (RTP_TEST_ADAPTER=fastify, set by test/support/fastify-adapter.setup.ts),
// and the dist/ processes the suites spawn too: one set of tests, two adapters.
const onFastify = { setupFiles: ['<rootDir>/test/support/fastify-adapter.setup.ts'] };

module.exports = {
  testTimeout: base.testTimeout,
  // Most e2e time is spent waiting (timeouts, reconciliation rounds, child processes): two workers
  // overlap one suite's waits with another's work, even on two cores.
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  testSequencer: '<rootDir>/test/support/sequencer.js',
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'], testPathIgnorePatterns: notSlow },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], testPathIgnorePatterns: notSlow },
    {
      ...base, ...onFastify, displayName: 'e2e-fastify', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: [...notSlow, ...ADAPTER_NEUTRAL_FOLDERS.map((d) => `/test/${d}/`), named(ADAPTER_NEUTRAL)],
    },
    { ...base, displayName: 'slow', testMatch: anywhere(Object.keys(SLOW)), testPathIgnorePatterns: ignore },
    { ...base, ...onFastify, displayName: 'slow-fastify', testMatch: anywhere(SLOW_FASTIFY), testPathIgnorePatterns: ignore },
    { ...base, displayName: 'long', testMatch: anywhere(Object.keys(LONG)), testPathIgnorePatterns: ignore },
  ],
};
// For test/support/sequencer.js; not enumerable, so jest does not read it as an option.
Object.defineProperty(module.exports, 'expectedSeconds', { value: { ...SLOW, ...LONG } });
