// swc instead of ts-jest: NestJS 12 is ESM-only and jest cannot require() ESM on Node 20,
// so @nestjs/* is transpiled to CommonJS too (see ../shared/TOOLCHAIN.md). Types are checked
// by `npm run typecheck` (tsc --noEmit), which `npm test` runs first.
const swc = (parser) => ['@swc/jest', {
  jsc: { parser, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
  module: { type: 'commonjs' },
}];
module.exports = {
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
