/**
 * The SIP side of the benchmark: Kamailio, rtpengine and SIPp as child processes on
 * 127.0.0.1, every port picked free at run time (other Kamailios may run on the same
 * machine), runtime files in a temporary directory, and the CPU time of a process tree
 * read from /proc (Kamailio forks its workers; rtpengine and SIPp are threaded).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export { DEPLOY_DIR, findSipTools, freeUdpPort } from '../../src/demo/sip-tools';

/** Whether rtpengine (Debian's rtpengine-daemon) is on the PATH; Kamailio and SIPp are found by findSipTools. */
export function hasRtpengine(): boolean {
  return spawnSync('sh', ['-c', 'command -v rtpengine'], { stdio: 'ignore' }).status === 0;
}

/** A temporary directory, removed by `cleanup`. */
export function tempDir(tag: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `rtp-bench-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A program that is not one of the bench's Node children: its pid, its stderr tail, a stop. */
export class External {
  private readonly tail: string[] = [];
  exited = false;
  readonly done: Promise<number | null>;

  constructor(readonly name: string, readonly proc: ChildProcess) {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      this.tail.push(d);
      if (this.tail.length > 40) this.tail.shift();
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${name}] ${d}`);
    });
    proc.stdout?.resume();
    this.done = new Promise((resolve) => proc.once('exit', (code) => {
      this.exited = true;
      resolve(code);
    }));
  }

  static start(name: string, cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): External {
    const proc = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.on('error', () => undefined);
    return new External(name, proc);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  stderr(): string {
    return this.tail.join('').slice(-3000);
  }

  /** SIGTERM (Kamailio then ends its workers itself), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await this.done;
    clearTimeout(t);
  }
}

const TICK_MS = 1000 / (Number((spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout ?? '').trim()) || 100);

/** utime + stime of one process (all its threads), ms; 0 when it is gone. */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** The pids of `root` and every process below it. */
export function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

/** CPU time (ms) of a process tree, with the pids read once at the start (Kamailio's workers do not change). */
export function treeCpu(root: number): () => number {
  const pids = processTree(root);
  return () => pids.reduce((s, p) => s + procCpuMs(p), 0);
}

/**
 * Waits until a SIP server answers an OPTIONS with a final reply (any status: Kamailio
 * is up and routing). Throws after `timeoutMs`.
 */
export async function waitSipUp(host: string, port: number, timeoutMs = 15_000, alive?: () => boolean): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const lport = s.address().port;
  try {
    const answered = new Promise<void>((resolve) => s.on('message', (m) => {
      if (/^SIP\/2\.0 [2-6]\d\d /.test(m.toString('latin1'))) resolve();
    }));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (alive && !alive()) throw new Error('the SIP server exited');
      const tag = randomBytes(6).toString('hex');
      const msg = [
        `OPTIONS sip:ping@${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${tag};rport`,
        'Max-Forwards: 70',
        `From: <sip:bench@127.0.0.1>;tag=${tag}`,
        `To: <sip:ping@${host}>`,
        `Call-ID: ${tag}@bench`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0', '', '',
      ].join('\r\n');
      s.send(msg, port, host);
      const ok = await Promise.race([answered.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 250))]);
      if (ok) return;
    }
    throw new Error(`no SIP answer from ${host}:${port} within ${timeoutMs} ms`);
  } finally {
    s.close();
  }
}

/** Waits until rtpengine answers an ng `ping` with `pong`. */
export async function waitRtpengineUp(port: number, timeoutMs = 15_000, alive?: () => boolean): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    const answered = new Promise<void>((resolve) => s.on('message', (m) => {
      if (m.toString('latin1').includes('4:pong')) resolve();
    }));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (alive && !alive()) throw new Error('rtpengine exited');
      s.send(`${randomBytes(4).toString('hex')} d7:command4:pinge`, port, '127.0.0.1');
      const ok = await Promise.race([answered.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 250))]);
      if (ok) return;
    }
    throw new Error(`rtpengine did not answer ng ping on 127.0.0.1:${port} within ${timeoutMs} ms`);
  } finally {
    s.close();
  }
}

/** Kamailio in the foreground on `cfg` with `workers` SIP workers (RTP_EDGE_CHILDREN, read by both configs), runtime files and any core dump in `dir`. */
export async function startKamailio(bin: string, name: string, cfg: string, dir: string, port: number, workers: number, env: Record<string, string>): Promise<External> {
  const k = External.start(name, bin, ['-f', cfg, '-Y', dir, '-w', dir, '-DD', '-E', '-m', '256', '-M', '16'], {
    env: { SIP_LISTEN: `udp:127.0.0.1:${port}`, RTP_EDGE_CHILDREN: String(workers), ...env },
  });
  try {
    await waitSipUp('127.0.0.1', port, 20_000, () => !k.exited);
  } catch (e) {
    await k.stop();
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}\n${k.stderr()}`);
  }
  return k;
}

/**
 * rtpengine in userspace, control on 127.0.0.1:`ngPort`, RTP ports in [portMin, portMin + 10000].
 * A call takes 4 ports (RTP + RTCP on each side); `--delete-delay=0` frees them at the
 * delete instead of 30 s later, which at hundreds of calls per second would run out of ports.
 */
export async function startRtpengine(ngPort: number, portMin: number): Promise<External> {
  const r = External.start('rtpengine', 'rtpengine', [
    '--foreground', '--table=-1', '--no-fallback', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`,
    '--config-file=none', '--log-stderr', '--log-level=4', `--port-min=${portMin}`, `--port-max=${portMin + 10000}`, '--delete-delay=0',
  ]);
  try {
    await waitRtpengineUp(ngPort, 20_000, () => !r.exited);
  } catch (e) {
    await r.stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${r.stderr()}`);
  }
  return r;
}

/** A SIPp UAS on `port` (runs until stopped). */
export function startSippUas(bin: string, scenario: string, port: number, mediaPort: number, cwd: string): External {
  return External.start('sipp-uas', bin, [
    '-sf', scenario, '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-nostdin', '-l', '100000', '-recv_timeout', '30000',
  ], { cwd });
}

export interface SippRun {
  created: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Setup time of each answered call: first INVITE sent → its 200 received, µs. */
  rtts: number[];
  /** Wall time of the whole run, ms. */
  wallMs: number;
  /** The end of SIPp's stderr (why it made no call, when it made none). */
  stderr: string;
}

export interface SippUacOptions {
  /** The sipp binary. */
  bin: string;
  /** A scenario file, or undefined for SIPp's built-in `uac`. */
  scenario?: string;
  /** An injection file (-inf) for the scenario's [fieldN]. */
  inf?: string;
  target: string;
  port: number;
  mediaPort: number;
  rate: number;
  calls: number;
  holdMs: number;
  /** Global cap on the run, s: calls still open then are failures. */
  timeoutSec: number;
  cwd: string;
  /** Called with the running SIPp (to read its CPU). */
  onStart?(p: External): void;
}

/**
 * Setup times (µs) from SIPp's -trace_shortmsg log (one tab-separated line per message,
 * µs timestamps; -trace_rtt only has whole ms): per Call-ID, the first `CSeq:1 INVITE`
 * sent to the first 200 received for it. The log is removed.
 */
function setupTimes(dir: string, pid: number): number[] {
  const file = readdirSync(dir).find((f) => f.endsWith(`_${pid}_shortmessages.log`));
  if (!file) return [];
  const sent = new Map<string, number>();
  const out: number[] = [];
  const text = readFileSync(path.join(dir, file), 'latin1');
  rmSync(path.join(dir, file), { force: true });
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7 || f[5] !== 'CSeq:1 INVITE') continue;
    const t = Math.round(Number(f[2]) * 1e6);
    if (f[3] === 'S') {
      if (!sent.has(f[4])) sent.set(f[4], t);
    } else if (f[3] === 'R' && f[6].startsWith('SIP/2.0 200')) {
      const t0 = sent.get(f[4]);
      if (t0 !== undefined) {
        out.push(t - t0);
        sent.delete(f[4]);
      }
    }
  }
  return out;
}

/**
 * One SIPp UAC run: `calls` calls at `rate` per second, no limit on simultaneous calls (an
 * overloaded edge must show up as failures, not as SIPp slowing down), a call that gets
 * no answer within 8 s fails. Reads the final statistics line and the per-call response times.
 */
export async function runSippUac(o: SippUacOptions): Promise<SippRun> {
  const stf = path.join(o.cwd, `stat-${o.port}.csv`);
  const args = [
    ...(o.scenario ? ['-sf', o.scenario] : ['-sn', 'uac']), ...(o.inf ? ['-inf', o.inf] : []), o.target,
    '-i', '127.0.0.1', '-p', String(o.port), '-mp', String(o.mediaPort),
    '-r', String(o.rate), '-m', String(o.calls), '-l', '1000000', '-d', String(o.holdMs),
    '-recv_timeout', '8000', '-timeout', `${o.timeoutSec}s`, '-nostdin',
    '-trace_stat', '-stf', stf, '-fd', '1', '-trace_shortmsg',
  ];
  const t0 = Date.now();
  const p = External.start('sipp-uac', o.bin, args, { cwd: o.cwd });
  o.onStart?.(p);
  await p.done;
  const wallMs = Date.now() - t0;
  const stat = existsSync(stf) ? readFileSync(stf, 'utf8').trim().split('\n') : [];
  if (stat.length < 2) return { created: 0, successful: 0, failed: 0, retransmissions: 0, rtts: [], wallMs, stderr: p.stderr() };
  const head = stat[0].split(';');
  const last = stat[stat.length - 1].split(';');
  const col = (name: string) => Number(last[head.indexOf(name)]);
  const rtts = setupTimes(o.cwd, p.pid);
  rmSync(stf, { force: true });
  return {
    created: col('TotalCallCreated'), successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'),
    retransmissions: col('Retransmissions(C)'), rtts, wallMs, stderr: p.stderr(),
  };
}
