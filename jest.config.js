// swc instead of ts-jest: NestJS 12 is ESM-only and jest cannot require() ESM on Node 20,
// so @nestjs/* is transpiled to CommonJS too (see ../shared/TOOLCHAIN.md). Types are checked
// by `npm run typecheck` (tsc --noEmit), which `npm test` runs first.
const swc = (parser) => ['@swc/jest', {
  jsc: { parser, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
  module: { type: 'commonjs' },
}];
const base = {
  testEnvironment: 'node',
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|file-type|strtok3|token-types|uint8array-extras|@tokenizer)/)'],
  transform: {
    '^.+\\.ts$': swc({ syntax: 'typescript', decorators: true }),
    '^.+\\.m?js$': swc({ syntax: 'ecmascript' }),
  },
  testTimeout: 20000,
};

// ---- BEGIN fastify adapter project (issue 14) --------------------------------------------
// The e2e suites once more, with every createTestApp app on Fastify (RTP_TEST_ADAPTER=fastify,
// set by test/fastify-adapter.setup.ts). To re-apply on another layout: add this project next
// to the e2e one, with the e2e project's options plus `setupFiles`.
const e2eFastify = {
  ...base,
  displayName: 'e2e-fastify',
  testRegex: '.*\\.e2e-spec\\.ts$',
  setupFiles: ['<rootDir>/test/fastify-adapter.setup.ts'],
  // The bench smoke run already covers both adapters (scenario 8): once is enough.
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, '/test/bench-smoke\\.e2e-spec\\.ts$'],
  // @fastify/static (Swagger UI's files on Fastify) requires the ESM-only content-disposition.
  transformIgnorePatterns: [base.transformIgnorePatterns[0].replace('@tokenizer)', '@tokenizer|@fastify/static|content-disposition)')],
};
// ---- END fastify adapter project ---------------------------------------------------------

module.exports = {
  testTimeout: base.testTimeout,
  projects: [{ ...base, displayName: 'default' }, e2eFastify],
};
