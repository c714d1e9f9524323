import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BenchContext, Scenario, Section } from '../lib/context';
import { keepAliveAgent, rawRequest } from '../lib/http';
import { Child } from '../lib/proc';
import {
  DEPLOY_DIR, type External, findSipTools, freeUdpPort, hasRtpengine, runSippUac, type SippRun, startKamailio, startRtpengine,
  startSippUas, tempDir, treeCpu,
} from '../lib/sip';
import { type Service, startService } from '../lib/sut';
import { fmtNum, fmtRatio, fmtSpread, fmtUs, quantile, spread, table } from '../lib/stats';

/** The caller on both paths: INVITE with an offer from its injection file, 200, ACK, pause (-d), BYE. */
const DEFAULT_UAC = path.join(DEPLOY_DIR, 'sipp', 'uac-basic.xml');

/** Success rate a step must reach to count (99.9 %). */
const PASS = 0.999;

interface Knobs {
  windowSec: number;
  rates: number[];
  refine: number;
  holdMs: number;
  workers: number;
  runs: number;
  paths: Set<string>;
  uac?: string;
  /** The kamailio and sipp binaries (findSipTools). */
  bins: { kamailio: string; sipp: string };
  /** Setup p99 bound of the second figure ("calls/s with p99 setup ≤ …"), ms. */
  p99Ms: number;
}

function numList(s: string): number[] {
  return s.split(',').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x) && x > 0);
}

/**
 * The knobs, from the environment (defaults: a full run; `--smoke` shrinks them):
 * BENCH_SIP_WINDOW_SEC (20) seconds of calls per step, BENCH_SIP_RATES (50,100,200,300,…)
 * the rates stepped upward until one fails, BENCH_SIP_REFINE (2) bisections between the
 * last rate that passed and the first that failed, BENCH_SIP_HOLD_MS (1000) the pause
 * between ACK and BYE, BENCH_SIP_WORKERS (16, kamailio.cfg's default) Kamailio's UDP workers on both paths,
 * BENCH_SIP_RUNS (min(3, --runs)), BENCH_SIP_PATHS (a-express,a-fastify,b),
 * BENCH_SIP_UAC (the caller's SIPp scenario; default deploy/sipp/uac-basic.xml),
 * BENCH_SIP_P99_MS (500) the setup p99 bound of the second figure.
 */
function knobs(ctx: BenchContext, bins: { kamailio: string; sipp: string }): Knobs {
  const e = process.env;
  const num = (name: string, def: number) => (e[name] !== undefined && Number.isFinite(Number(e[name])) ? Number(e[name]) : def);
  return {
    windowSec: num('BENCH_SIP_WINDOW_SEC', ctx.smoke ? 2 : 20),
    rates: numList(e.BENCH_SIP_RATES ?? (ctx.smoke ? '10' : '50,100,200,300,400,600,800,1000,1300,1600,2000')),
    refine: num('BENCH_SIP_REFINE', ctx.smoke ? 0 : 2),
    holdMs: num('BENCH_SIP_HOLD_MS', ctx.smoke ? 200 : 1000),
    workers: num('BENCH_SIP_WORKERS', 16),
    runs: num('BENCH_SIP_RUNS', Math.min(3, ctx.runs)),
    paths: new Set((e.BENCH_SIP_PATHS ?? 'a-express,a-fastify,b').split(',')),
    p99Ms: num('BENCH_SIP_P99_MS', 500),
    bins,
    uac: e.BENCH_SIP_UAC ?? (existsSync(DEFAULT_UAC) ? DEFAULT_UAC : undefined),
  };
}

/** One process (or process tree) whose CPU the table shows. */
interface Proc {
  label: string;
  cpuMs: () => number;
}

/** A SIP edge under test, up and answering OPTIONS. */
interface Stack {
  port: number;
  procs: Proc[];
  stop(): Promise<void>;
}

interface PathDef {
  key: string;
  label: string;
  start(ctx: BenchContext, k: Knobs, dir: string): Promise<Stack>;
}

/** Stops what started, in reverse order, ignoring failures (a stack half up is torn down too). */
async function stopAll(parts: Array<{ stop(): Promise<void> }>): Promise<void> {
  for (const p of [...parts].reverse()) await p.stop().catch(() => undefined);
}

/** Path (a): SIPp → Kamailio (deploy/kamailio/kamailio.cfg) → rtp-pool → two reference media nodes. */
function poolPath(adapter: 'express' | 'fastify'): PathDef {
  return {
    key: `a-${adapter}`,
    label: `(a) Kamailio → rtp-pool on ${adapter === 'express' ? 'Express' : 'Fastify'} → 2 reference media nodes`,
    async start(ctx, k, dir) {
      const cfg = path.join(DEPLOY_DIR, 'kamailio', 'kamailio.cfg');
      if (!existsSync(cfg)) throw new Error('deploy/kamailio/kamailio.cfg is not there');
      const token = randomBytes(12).toString('hex');
      const parts: Array<{ stop(): Promise<void> }> = [];
      try {
        const svc: Service = await startService({
          RTP_HTTP_ADAPTER: adapter, RTP_API_TOKEN: token, RTP_HEALTH_INTERVAL_MS: '0', LOG_LEVEL: 'warn',
        }, `sut-${adapter}`);
        parts.push(svc);
        const nodes: Child[] = [];
        for (let i = 0; i < 2; i++) {
          const base = 20000 + Math.floor(Math.random() * 20) * 2000;
          const n = Child.start('media-node', {
            name: `media-node-${i + 1}`,
            env: {
              SIP_REGISTRY_URL: svc.url, RTP_NODE_ID: `bench-sip-${i + 1}-${randomBytes(3).toString('hex')}`, RTP_DRAIN_TIMEOUT_SEC: '0',
              RTP_PORT_MIN: String(base), RTP_PORT_MAX: String(base + 1998), LOG_LEVEL: 'warn', RTP_HEARTBEAT_SEC: '5',
            },
          });
          parts.push(n);
          await n.ready;
          nodes.push(n);
        }
        await waitNodes(svc.url, token, 2);
        const port = await freeUdpPort();
        const kam = await startKamailio(k.bins.kamailio, `kamailio-${adapter}`, cfg, dir, port, k.workers, {
          RTP_POOL_URL: svc.url, RTP_API_TOKEN: token, RTP_EDGE_DIR: path.join(DEPLOY_DIR, 'kamailio'),
        });
        parts.push(kam);
        const nodeCpu = nodes.map((n) => treeCpu(n.proc.pid!));
        return {
          port,
          procs: [
            { label: 'Kamailio (all processes)', cpuMs: treeCpu(kam.pid) },
            { label: 'rtp-pool', cpuMs: treeCpu(svc.child.proc.pid!) },
            { label: 'media nodes (2)', cpuMs: () => nodeCpu.reduce((s, f) => s + f(), 0) },
          ],
          stop: () => stopAll(parts),
        };
      } catch (e) {
        await stopAll(parts);
        throw e;
      }
    },
  };
}

/** Waits until the service lists `count` nodes (the media nodes registered themselves). */
async function waitNodes(url: string, token: string, count: number): Promise<void> {
  const agent = keepAliveAgent(1);
  try {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const r = await rawRequest(agent, 'GET', `${url}/v1/nodes`, undefined, { authorization: `Bearer ${token}` });
      if (r.status === 200 && (JSON.parse(r.body) as { nodes: unknown[] }).nodes.length >= count) return;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    throw new Error(`the media nodes did not register within 15 s`);
  } finally {
    agent.destroy();
  }
}

/** Path (b): SIPp UAC → Kamailio (deploy/kamailio/rtpengine-proxy.cfg) + rtpengine → SIPp UAS. */
const rtpenginePath: PathDef = {
  key: 'b',
  label: '(b) Kamailio proxy + rtpengine (userspace) → SIPp UAS',
  async start(ctx, k, dir) {
    const parts: Array<{ stop(): Promise<void> }> = [];
    try {
      const ngPort = await freeUdpPort();
      const rtpe = await startRtpengine(ngPort, 20000 + Math.floor(Math.random() * 4) * 10000);
      parts.push(rtpe);
      const uasPort = await freeUdpPort();
      const uas: External = startSippUas(k.bins.sipp, path.join(DEPLOY_DIR, 'sipp', 'uas.xml'), uasPort, await freeUdpPort(), dir);
      parts.push(uas);
      const port = await freeUdpPort();
      const kam = await startKamailio(k.bins.kamailio, 'kamailio-rtpengine', path.join(DEPLOY_DIR, 'kamailio', 'rtpengine-proxy.cfg'), dir, port, k.workers, {
        RTPENGINE_NG: `udp:127.0.0.1:${ngPort}`, SIP_UAS: `127.0.0.1:${uasPort}`,
      });
      parts.push(kam);
      if (uas.exited) throw new Error(`the SIPp UAS exited:\n${uas.stderr()}`);
      return {
        port,
        procs: [
          { label: 'Kamailio (all processes)', cpuMs: treeCpu(kam.pid) },
          { label: 'rtpengine', cpuMs: treeCpu(rtpe.pid) },
          { label: 'SIPp UAS', cpuMs: treeCpu(uas.pid) },
        ],
        stop: () => stopAll(parts),
      };
    } catch (e) {
      await stopAll(parts);
      throw e;
    }
  },
};

const PATHS: PathDef[] = [poolPath('express'), poolPath('fastify'), rtpenginePath];

/** One rate step of one path. */
interface Step {
  rate: number;
  calls: number;
  run: SippRun;
  success: number;
  p50: number;
  p99: number;
  /** CPU ms per process over the step (SIPp UAC first). */
  cpu: Array<{ label: string; ms: number }>;
}

/** A step; SIPp that could not start (a port taken between its pick and its bind) is started again. */
async function step(stack: Stack, k: Knobs, rate: number, dir: string): Promise<Step> {
  for (let i = 0; ; i++) {
    const s = await stepOnce(stack, k, rate, dir);
    if (s.run.created > 0 || i === 2) return s;
  }
}

async function stepOnce(stack: Stack, k: Knobs, rate: number, dir: string): Promise<Step> {
  const calls = Math.round(rate * k.windowSec);
  const mediaPort = await freeUdpPort();
  // uac-basic.xml takes the offer's c=/m= from field0/field1: every call offers SIPp's own media port.
  const inf = path.join(dir, 'callers.csv');
  writeFileSync(inf, `SEQUENTIAL\n127.0.0.1;${mediaPort};\n`);
  const before = stack.procs.map((p) => p.cpuMs());
  let uacCpu: (() => number) | undefined;
  let uacLast = 0;
  let poll: NodeJS.Timeout | undefined;
  const run = await runSippUac({
    bin: k.bins.sipp, scenario: k.uac, inf: k.uac ? inf : undefined, target: `127.0.0.1:${stack.port}`, port: await freeUdpPort(), mediaPort,
    rate, calls, holdMs: k.holdMs, timeoutSec: k.windowSec + Math.ceil(k.holdMs / 1000) + 30, cwd: dir,
    onStart: (p) => {
      // SIPp's own CPU, sampled while it lives (its /proc entry goes when it exits).
      setImmediate(() => {
        uacCpu = treeCpu(p.pid);
        poll = setInterval(() => (uacLast = Math.max(uacLast, uacCpu!())), 200);
      });
    },
  }).finally(() => clearInterval(poll));
  const after = stack.procs.map((p) => p.cpuMs());
  const rtts = [...run.rtts].sort((a, b) => a - b);
  return {
    rate, calls, run,
    success: run.successful / calls,
    p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99),
    cpu: [{ label: 'SIPp UAC', ms: uacLast }, ...stack.procs.map((p, i) => ({ label: p.label, ms: after[i] - before[i] }))],
  };
}

/** One path's steps in one run, and its top step. */
interface Search {
  steps: Step[];
  top?: Step;
}

/**
 * One run: every path's stack up at once; each rate of the list is run on every path
 * still in the race, one path after the other, so all paths sample the same moments of
 * a shared machine. A step below 99.9 % is run once more (a neighbour's burst is not the
 * edge's limit) and, failing again, takes its path out of the race. Then `refine`
 * bisections per path between its last rate passed and its first failed, interleaved too.
 */
async function interleavedRun(ctx: BenchContext, k: Knobs, paths: PathDef[], r: number): Promise<Map<string, Search>> {
  const out = new Map<string, Search>(paths.map((p) => [p.key, { steps: [] }]));
  const tmps = paths.map((p) => tempDir(`sip-${p.key}`));
  const stacks = new Map<string, Stack>();
  try {
    for (const [i, p] of paths.entries()) stacks.set(p.key, await p.start(ctx, k, tmps[i].dir));
    const dirOf = (key: string) => tmps[paths.findIndex((p) => p.key === key)].dir;
    // The order of the paths turns from run to run, so none is always measured first.
    const order = paths.map((_, i) => paths[(i + r) % paths.length].key);
    const go = async (key: string, rate: number): Promise<boolean> => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const s = await step(stacks.get(key)!, k, rate, dirOf(key));
        out.get(key)!.steps.push(s);
        ctx.log(`s10: run ${r + 1}, ${key} ${rate}/s: ${s.run.successful}/${s.calls} ok (${(100 * s.success).toFixed(2)} %), `
          + `setup p50 ${fmtUs(s.p50)} p99 ${fmtUs(s.p99)}, ${s.run.retransmissions} retransmissions${attempt ? ' (second attempt)' : ''}`
          + (s.run.created === 0 ? `; SIPp: ${s.run.stderr.slice(-300)}` : ''));
        // Let timers (tm's wait timer, retransmissions of the last calls) settle before the next step.
        await new Promise((res) => setTimeout(res, s.success >= PASS ? 2_000 : 6_000));
        if (s.success >= PASS) {
          out.get(key)!.top = s;
          return true;
        }
      }
      return false;
    };
    const failedAt = new Map<string, number>();
    for (const rate of k.rates) {
      const racing = order.filter((key) => !failedAt.has(key));
      if (racing.length === 0) break;
      for (const key of racing) if (!(await go(key, rate))) failedAt.set(key, rate);
    }
    const lo = new Map(order.map((key) => [key, out.get(key)!.top?.rate ?? 0]));
    for (let i = 0; i < k.refine; i++) {
      for (const key of order) {
        const hi = failedAt.get(key);
        if (hi === undefined) continue;
        const mid = Math.round((lo.get(key)! + hi) / 2 / 10) * 10;
        if (mid <= lo.get(key)! || mid >= hi) continue;
        if (await go(key, mid)) lo.set(key, mid);
        else failedAt.set(key, mid);
      }
    }
  } finally {
    for (const st of stacks.values()) await st.stop();
    for (const t of tmps) t.cleanup();
  }
  return out;
}

/**
 * 10. The SIP edge: SIPp calls per second through Kamailio in front of rtp-pool, beside
 * Kamailio + rtpengine, on this machine, in one run.
 */
export const s10: Scenario = {
  id: '10',
  title: 'SIP edge: calls per second through Kamailio → rtp-pool, beside Kamailio + rtpengine',
  async run(ctx: BenchContext): Promise<Section> {
    const head = `### 10. ${this.title}`;
    const found = findSipTools();
    if (!found.tools || !hasRtpengine()) {
      const why = [found.missing, hasRtpengine() ? '' : 'rtpengine is needed (Debian package): sudo apt-get install rtpengine-daemon'].filter(Boolean).join('; ');
      return { markdown: `${head}\n\nskipped: ${why}`, summary: [['10', 'SIP edge', 'skipped', why]], skipped: why };
    }
    const k = knobs(ctx, found.tools);
    const paths = PATHS.filter((p) => k.paths.has(p.key));
    const results = new Map<string, Search[]>(paths.map((p) => [p.key, []]));
    for (let r = 0; r < k.runs; r++) {
      ctx.log(`s10: run ${r + 1}/${k.runs}`);
      const one = await interleavedRun(ctx, k, paths, r);
      for (const [key, x] of one) results.get(key)!.push(x);
    }
    return report(this.title, k, paths, results);
  },
};

function report(title: string, k: Knobs, paths: PathDef[], results: Map<string, Search[]>): Section {
  const topRate = (x: { top?: Step }) => x.top?.rate ?? 0;
  // SIPp's retransmissions keep calls alive long past a usable setup time: the second
  // figure is the highest rate that passed with its setup p99 within the bound.
  const fastRate = (x: { steps: Step[] }) => Math.max(0, ...x.steps.filter((s) => s.success >= PASS && s.p99 <= k.p99Ms * 1000).map((s) => s.rate));
  const ms = fmtUs;
  const rows = paths.map((p) => {
    const runs = results.get(p.key)!;
    const tops = runs.map((x) => x.top).filter((x): x is Step => !!x);
    const labels = tops[0]?.cpu.map((c) => c.label) ?? [];
    const cpu = labels.map((label) => {
      const pct = spread(tops.map((t) => (100 * t.cpu.find((c) => c.label === label)!.ms) / t.run.wallMs)).median;
      const perCall = spread(tops.map((t) => (1000 * t.cpu.find((c) => c.label === label)!.ms) / Math.max(1, t.run.successful))).median;
      return `${label} ${fmtNum(pct)} % (${fmtNum(perCall)} µs/call)`;
    }).join('; ');
    return [
      p.label,
      fmtSpread(spread(runs.map(topRate)), (x) => fmtNum(x)),
      fmtSpread(spread(runs.map(fastRate)), (x) => fmtNum(x)),
      fmtSpread(spread(tops.map((t) => t.p50)), ms),
      fmtSpread(spread(tops.map((t) => t.p99)), ms),
      fmtSpread(spread(tops.map((t) => 100 * t.success)), (x) => `${x.toFixed(2)} %`),
      cpu || 'n/a',
    ];
  });
  const b = results.get('b');
  const ratios = paths.filter((p) => p.key !== 'b' && b).map((p) => {
    const rs = results.get(p.key)!.map((x, i) => topRate(x) / topRate(b![i]));
    const fast = results.get(p.key)!.map((x, i) => fastRate(x) / fastRate(b![i]));
    return { p, ratio: spread(rs.filter((x) => Number.isFinite(x))), fast: spread(fast.filter((x) => Number.isFinite(x))) };
  });
  // Setup time side by side at one rate: the highest rate of the list every path passed in a run.
  const common = (i: number) => Math.min(...paths.map((p) => topRateOnList(results.get(p.key)![i], k.rates)));
  const sameRateRows = paths.map((p) => {
    const at = results.get(p.key)!.map((x, i) => [...x.steps].reverse().find((s) => s.rate === common(i))).filter((s): s is Step => !!s);
    return [p.label, fmtSpread(spread(at.map((s) => s.rate)), (x) => fmtNum(x)), fmtSpread(spread(at.map((s) => s.p50)), ms), fmtSpread(spread(at.map((s) => s.p99)), ms)];
  });
  const stepLines = paths.map((p) => `- ${p.key}: ` + results.get(p.key)!.map((x, i) => `run ${i + 1}: ` + x.steps.map((s) =>
    `${s.rate}/s ${(100 * s.success).toFixed(s.success === 1 ? 0 : 2)} % (${fmtUs(s.p50)}/${fmtUs(s.p99)}${s.run.retransmissions ? `, ${s.run.retransmissions} retr.` : ''})`).join(', ')).join('; '));
  const md = [
    `### 10. ${title}`,
    '',
    `SIPp ${k.uac ? `\`${path.basename(k.uac)}\`` : 'built-in `uac`'} (INVITE with an SDP offer, 200, ACK, ${k.holdMs} ms pause, BYE) drives each path on 127.0.0.1; `
    + `each step places rate × ${k.windowSec} s calls at a fixed rate (no cap on simultaneous calls, 8 s answer timeout). `
    + `Rates stepped: ${k.rates.join(', ')} until one falls below 99.9 % success, then ${k.refine} bisection(s). Kamailio runs ${k.workers} UDP workers on both paths. `
    + `Setup time: from SIPp's message log (\`-trace_shortmsg\`, µs timestamps), first INVITE sent → its 200 received. CPU is each process's (Kamailio: all its processes) user + system time over the top step, `
    + `as % of one core and per successful call. Path (a)'s media nodes send RTP (silence, 50 packets/s) to each caller from ACK to BYE; `
    + `on path (b) no endpoint sends RTP, so rtpengine only does its control work. `
    + `Every process shares the machine's cores (and, when measured here, with other work): the ratio of one run counts more than its absolute figures. `
    + `${k.runs} run(s); in each, all paths are up at once and every rate runs on each path in turn (the first path turns from run to run); `
    + `a step below 99.9 % is run once more before it counts as the path's limit. Figures are medians of the runs with (min–max).`,
    '',
    table(['path', 'top calls/s at ≥ 99.9 %', `calls/s at ≥ 99.9 % and setup p99 ≤ ${k.p99Ms} ms`, 'setup p50 at top', 'setup p99 at top', 'success at top', 'CPU at top'], rows),
    '',
    ...(ratios.length ? [
      'Ratio of top calls/s, (a) ÷ (b), per run then median: ' + ratios.map((x) => `${x.p.key} ${fmtSpread(x.ratio, fmtRatio)}`).join(', ')
      + `; with setup p99 ≤ ${k.p99Ms} ms: ` + ratios.map((x) => `${x.p.key} ${fmtSpread(x.fast, fmtRatio)}`).join(', '), '',
    ] : []),
    '**Setup time at the same rate** (the highest listed rate every path passed in the run)',
    '',
    table(['path', 'rate', 'setup p50', 'setup p99'], sameRateRows),
    '',
    '**Every step** (rate, success, setup p50/p99, SIPp retransmissions)',
    '',
    ...stepLines,
  ].join('\n');
  const summary: string[][] = paths.map((p) => {
    const x = ratios.find((q) => q.p.key === p.key);
    return ['10', `SIP edge top calls/s at ≥ 99.9 % (with setup p99 ≤ ${k.p99Ms} ms), ${p.key}`,
      `${fmtNum(spread(results.get(p.key)!.map(topRate)).median)} (${fmtNum(spread(results.get(p.key)!.map(fastRate)).median)})`,
      x ? `${fmtRatio(x.ratio.median)} (${fmtRatio(x.fast.median)}) of Kamailio + rtpengine (b) in the same run` : p.key === 'b' ? 'the field\'s usual edge' : ''];
  });
  return { markdown: md, summary };
}

/** The highest rate of the stepped list a run passed (bisection steps left out). */
function topRateOnList(x: { steps: Step[] }, rates: number[]): number {
  let best = 0;
  for (const s of x.steps) if (rates.includes(s.rate) && s.success >= PASS) best = Math.max(best, s.rate);
  return best;
}
