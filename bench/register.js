// Runs the benchmark's TypeScript (and src/) without a build step: a CommonJS require
// hook that transpiles .ts files with @swc/core, configured like jest.config.js
// (legacy decorators + decorator metadata, which Nest's DI needs). Types are checked
// by `npm run typecheck`, which covers bench/ too.
'use strict';
const { transformSync } = require('@swc/core');
const Module = require('node:module');
const fs = require('node:fs');

const options = (filename) => ({
  filename,
  sourceMaps: 'inline',
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    target: 'es2022',
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'commonjs' },
});

Module._extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), options(filename));
  module._compile(code, filename);
};
