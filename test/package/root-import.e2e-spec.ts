import { execFileSync } from 'node:child_process';
import { builtEntry } from '../support/dist';

/**
 * `require('rtp-pool')` on the built package, in a fresh process: the packages the root
 * import loads, and those loaded once the Fastify adapter is chosen. An Express user never
 * loads Fastify, and nobody loads ioredis or pino-pretty until a Redis store or LOG_PRETTY
 * asks for them.
 */
const SCRIPT = `
const loaded = () => {
  const pkgs = new Set();
  for (const f of Object.keys(require.cache)) {
    const m = f.match(/node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/g);
    if (m) pkgs.add(m[m.length - 1].replace(/^node_modules[\\\\/]/, '').replace(/\\\\/g, '/'));
  }
  return [...pkgs].sort();
};
const root = require(process.argv[1]);
const atRoot = loaded();
root.createHttpAdapter('fastify');
process.stdout.write(JSON.stringify({ atRoot, withFastify: loaded() }));
`;

const FASTIFY = /^(fastify|fastify-plugin|find-my-way|avvio|light-my-request|@fastify\/.*|@nestjs\/platform-fastify)$/;

describe("require('rtp-pool') (dist/index.js)", () => {
  let result: { atRoot: string[]; withFastify: string[] };
  beforeAll(() => {
    const out = execFileSync(process.execPath, ['-e', SCRIPT, builtEntry('index.js')], { encoding: 'utf8', timeout: 60_000 });
    result = JSON.parse(out) as typeof result;
  });

  it('loads no Fastify package, no ioredis and no pino-pretty', () => {
    expect(result.atRoot.length).toBeGreaterThan(0);
    expect(result.atRoot.filter((p) => FASTIFY.test(p) || p === 'ioredis' || p === 'pino-pretty')).toEqual([]);
  });

  it('loads Fastify once the Fastify adapter is chosen (the check above sees it when it is there)', () => {
    expect(result.withFastify).toEqual(expect.arrayContaining(['fastify', '@nestjs/platform-fastify']));
  });
});
