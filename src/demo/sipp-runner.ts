import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, SIPP_DIR } from './sip-tools';

/* SIPp as a UAC for the demo, the SIP-edge tests and the bench: started on free ports, its statistics read back. */

export interface SippRunOptions {
  /** A scenario file in deploy/sipp (`uac-basic.xml`) or a path. */
  scenario: string;
  /** host:port of the edge. */
  target: string;
  /** Calls to place (-m). */
  calls: number;
  /** Calls per second (-r). */
  rate: number;
  /** The scenario's pause (-d), ms. */
  pauseMs?: number;
  /** One RTP address per call, in order (the injection file's field0/field1). */
  callers: { ip: string; port: number }[];
  /** Concurrent calls at most (-l). */
  limit?: number;
  /** Kills SIPp after this long. @default 120 s */
  timeoutMs?: number;
  /** More SIPp arguments. */
  args?: string[];
}

export interface SippResult {
  /** SIPp's exit code: 0 all calls succeeded, 1 some failed, other values an error. */
  exitCode: number | null;
  created: number;
  successful: number;
  failed: number;
  /** INVITE sent → 200 received, ms, one per answered call ("setup" in the scenarios). */
  setupMs: number[];
  /** Failure reasons SIPp wrote (-trace_err), the first MB. */
  errors: string;
  /** What SIPp printed. */
  output: string;
  /** Call-IDs SIPp used, in call order ([call_id] is `<n>-<pid>@<ip>`). */
  callIds: string[];
}

/** A running SIPp UAC; `done` resolves with its results. */
export interface SippRun {
  done: Promise<SippResult>;
  /** The SIPp process id ([call_id]'s second part). */
  pid: number;
  kill(): void;
}

/**
 * Starts SIPp (no keyboard, -nostdin), its traces in a temporary directory, its SIP and media
 * ports picked free (SIPp's own defaults, 5060 and 6000, are shared with whatever else runs here).
 */
export async function startSipp(bin: string, o: SippRunOptions): Promise<SippRun> {
  let current = await launchSipp(bin, o);
  const relaunch = async (): Promise<SippResult> => {
    // A port picked free can be taken before SIPp binds it (SIPp also binds the media port + 2):
    // SIPp then exits at once with 254, before placing a call. Start it again on other ports.
    for (let attempt = 1; ; attempt++) {
      const res = await current.done;
      if (res.exitCode !== 254 || res.created > 0 || attempt >= 3) return res;
      current = await launchSipp(bin, o);
    }
  };
  return {
    get pid() {
      return current.pid;
    },
    kill: () => current.kill(),
    done: relaunch(),
  };
}

async function launchSipp(bin: string, o: SippRunOptions): Promise<SippRun> {
  const sipPort = await freeUdpPort();
  const mediaPort = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'rtp-pool-sipp-'));
  const inf = join(dir, 'callers.csv');
  writeFileSync(inf, ['SEQUENTIAL', ...o.callers.map((c) => `${c.ip};${c.port};`), ''].join('\n'));
  const scenario = o.scenario.includes('/') ? o.scenario : join(SIPP_DIR, o.scenario);
  const args = [
    '-sf', scenario, '-inf', inf, '-i', '127.0.0.1', '-p', String(sipPort), '-mp', String(mediaPort),
    '-m', String(o.calls), '-r', String(o.rate), '-d', String(o.pauseMs ?? 1000),
    '-l', String(o.limit ?? o.calls),
    '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1',
    '-trace_rtt', '-rtt_freq', '1',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-nostdin', '-timeout_error', '-timeout', `${Math.ceil((o.timeoutMs ?? 120_000) / 1000)}s`,
    ...(o.args ?? []), o.target,
  ];
  let output = '';
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (o.timeoutMs ?? 120_000) + 10_000);
  const done = new Promise<SippResult>((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      const read = (f: string) => {
        try {
          return readFileSync(join(dir, f), 'utf8');
        } catch {
          return '';
        }
      };
      const stats = parseStat(read('stat.csv'));
      const rttFile = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
      const setupMs = rttFile ? parseRtt(read(rttFile), 'setup') : [];
      // Kept whole up to 1 MB: a test reads the reason of every failed call.
      const errors = read('errors.log').slice(0, 1 << 20);
      rmSync(dir, { recursive: true, force: true });
      const callIds = Array.from({ length: stats.created }, (_, i) => `${i + 1}-${child.pid}@127.0.0.1`);
      resolve({ exitCode: code, ...stats, setupMs, errors, output, callIds });
    });
  });
  return { done, pid: child.pid ?? 0, kill: () => child.kill('SIGKILL') };
}

/** The last line of SIPp's -trace_stat file: cumulative calls created, successful, failed. */
function parseStat(csv: string): { created: number; successful: number; failed: number } {
  const lines = csv.trim().split('\n').filter(Boolean);
  if (lines.length < 2) return { created: 0, successful: 0, failed: 0 };
  const head = lines[0].split(';');
  const last = lines[lines.length - 1].split(';');
  const col = (name: string) => Number(last[head.indexOf(name)] ?? 0) || 0;
  return { created: col('TotalCallCreated'), successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

/** SIPp's -trace_rtt file: `date_ms;response_time_ms;rtd_no` per sample; the samples of one rtd. */
function parseRtt(csv: string, rtd: string): number[] {
  const out: number[] = [];
  for (const line of csv.split('\n').slice(1)) {
    const [, ms, name] = line.trim().split(';');
    if (name === rtd && ms !== undefined && ms !== '') out.push(Number(ms));
  }
  return out;
}

/** The p-th percentile (0–100) of `xs`, nearest rank; NaN for none. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
