import 'reflect-metadata';
import { join } from 'node:path';
import { runDemo } from './demo';

/**
 * `npm run demo [-- --calls N --duration-ms MS --verbose]`: the whole system on loopback.
 * Ctrl-C stops everything cleanly (a second Ctrl-C exits at once).
 */
function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const abort = new AbortController();
  process.once('SIGINT', () => {
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => abort.abort());
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const result = await runDemo({
    calls: num(flag('calls')), durationMs: num(flag('duration-ms')), verbose: process.argv.includes('--verbose'), signal: abort.signal,
    // The built media node beside this file (dist/media-node/main.js): the second scene kills one.
    mediaNodeEntry: join(__dirname, '..', 'media-node', 'main.js'),
  });
  process.exitCode = abort.signal.aborted ? 130 : result.ok ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
