import 'reflect-metadata';
import { interruptSignal, numberFlag } from './abortable';
import { runSipDemo } from './sip-demo';

/**
 * `npm run sip:demo [-- --calls N --rate R --duration-ms MS --children K --verbose]`: SIPp calls
 * through Kamailio and rtp-pool on loopback. Exits 0 only if every call succeeded, carried RTP
 * and left no leg. Ctrl-C stops everything (a second Ctrl-C exits at once).
 */
async function main(): Promise<void> {
  const signal = interruptSignal();
  const result = await runSipDemo({
    calls: numberFlag('calls'), rate: numberFlag('rate'), durationMs: numberFlag('duration-ms'), children: numberFlag('children'),
    verbose: process.argv.includes('--verbose'), signal,
  });
  process.exitCode = signal.aborted ? 130 : result.ok ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`sip demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
