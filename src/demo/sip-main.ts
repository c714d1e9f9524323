import 'reflect-metadata';
import { runSipDemo } from './sip-demo';

/**
 * `npm run sip:demo [-- --calls N --rate R --duration-ms MS --children K --verbose]`: SIPp calls
 * through Kamailio and rtp-pool on loopback. Exits 0 only if every call succeeded, carried RTP
 * and left no leg. Ctrl-C stops everything (a second Ctrl-C exits at once).
 */
function flag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

async function main(): Promise<void> {
  const abort = new AbortController();
  process.once('SIGINT', () => {
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => abort.abort());
  const result = await runSipDemo({
    calls: flag('calls'), rate: flag('rate'), durationMs: flag('duration-ms'), children: flag('children'),
    verbose: process.argv.includes('--verbose'), signal: abort.signal,
  });
  process.exitCode = abort.signal.aborted ? 130 : result.ok ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`sip demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
