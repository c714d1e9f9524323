import 'reflect-metadata';
import { join } from 'node:path';
import { interruptSignal, numberFlag } from './abortable';
import { runDemo } from './demo';

/**
 * `npm run demo [-- --calls N --duration-ms MS --verbose]`: the whole system on loopback.
 * Ctrl-C stops everything cleanly (a second Ctrl-C exits at once).
 */
async function main(): Promise<void> {
  const signal = interruptSignal();
  const result = await runDemo({
    calls: numberFlag('calls'), durationMs: numberFlag('duration-ms'), verbose: process.argv.includes('--verbose'), signal,
    // The built media node beside this file (dist/media-node/main.js): the second scene kills one.
    mediaNodeEntry: join(__dirname, '..', 'media-node', 'main.js'),
  });
  process.exitCode = signal.aborted ? 130 : result.ok ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
