import { table } from './demo';
import { randomRtpPortBase, type LoopbackSystem, startLoopbackSystem } from './loopback-system';
import { RtpCaller } from './rtp-caller';
import { findSipTools, KamailioEdge } from './sip-tools';
import { percentile, type SippRun, startSipp } from './sipp-runner';
import { Aborted, abortable } from './abortable';

export interface SipDemoOptions {
  /** Calls SIPp places. @default 20 */
  calls?: number;
  /** Calls per second. @default 10 */
  rate?: number;
  /** Milliseconds between ACK and BYE. @default 2000 */
  durationMs?: number;
  /** Kamailio's SIP workers (RTP_EDGE_CHILDREN). @default 8 */
  children?: number;
  log?: (line: string) => void;
  /** Show the services' own logs and Kamailio's per-request lines. @default false */
  verbose?: boolean;
  /** Aborts the demo (Ctrl-C): everything started is stopped. */
  signal?: AbortSignal;
}

export interface SipDemoResult {
  ok: boolean;
  /** Set when Kamailio or SIPp is not installed: the line naming the packages. */
  missing?: string;
  calls: number;
  successful: number;
  failed: number;
  /** INVITE → 200, ms. */
  setupP50: number;
  setupP99: number;
  /** Node packets each caller received, in call order. */
  rtp: number[];
  /** Node packets that arrived after the call's BYE was answered. */
  afterBye: number[];
  /** Legs the media nodes still hold, and calls the pool still binds, after the run. */
  legsLeft: number;
  bindingsLeft: number;
}

/**
 * Real SIP through rtp-pool, on loopback: the signaling service and two reference media nodes
 * (as `npm run demo`), Kamailio running deploy/kamailio/kamailio.cfg in front of the service,
 * and SIPp placing calls (deploy/sipp/uac-basic.xml) whose SDP offers point at one UDP socket
 * per call, which counts the RTP the call's media node sends between ACK and BYE. Every port
 * is picked free at run time. Prints a table; stops everything it started, even when aborted.
 */
export async function runSipDemo(opts: SipDemoOptions = {}): Promise<SipDemoResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const calls = Math.max(1, Math.min(opts.calls ?? 20, 2000));
  const rate = Math.max(1, opts.rate ?? 10);
  const durationMs = Math.max(200, opts.durationMs ?? 2000);
  const empty: SipDemoResult = { ok: false, calls, successful: 0, failed: 0, setupP50: NaN, setupP99: NaN, rtp: [], afterBye: [], legsLeft: 0, bindingsLeft: 0 };
  const found = findSipTools();
  if (!found.tools) {
    log(found.missing!);
    return { ...empty, missing: found.missing };
  }
  const signal = opts.signal;
  const { check, pause } = abortable(signal);

  let system: LoopbackSystem | undefined;
  let edge: KamailioEdge | undefined;
  let sipp: SippRun | undefined;
  const callers: RtpCaller[] = [];
  const onAbort = () => sipp?.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    log('rtp-pool SIP demo: SIPp → Kamailio → rtp-pool → media nodes → RTP to the callers, all on 127.0.0.1\n');
    system = await startLoopbackSystem({ nodeIds: ['sip-a', 'sip-b'], log, verbose: opts.verbose, check, pause, rtpPortBase: randomRtpPortBase(2) });
    edge = await new KamailioEdge(found.tools.kamailio, { poolUrl: system.sigUrl, children: opts.children ?? 8, logLevel: opts.verbose ? 2 : 1 }).start();
    log(`  Kamailio (deploy/kamailio/kamailio.cfg)   sip:${edge.address}   → RTP_POOL_URL=${system.sigUrl}`);
    check();
    for (let i = 0; i < calls; i++) callers.push(await new RtpCaller().open());
    log(`  SIPp (deploy/sipp/uac-basic.xml): ${calls} call(s) at ${rate}/s, ${durationMs} ms between ACK and BYE, each offer pointing at its own UDP socket\n`);

    sipp = await startSipp(found.tools.sipp, {
      scenario: 'uac-basic.xml', target: edge.address, calls, rate, pauseMs: durationMs,
      callers: callers.map((c) => ({ ip: c.address, port: c.port })),
      timeoutMs: Math.ceil(calls / rate) * 1000 + durationMs + 60_000,
    });
    const res = await sipp.done;
    check();
    // A BYE's 200 comes after its DELETE: packets already on the wire may still land, then silence.
    await pause(100);
    const atBye = callers.map((c) => c.stats.fromNode);
    await pause(400);
    check();
    const rtp = atBye;
    const afterBye = callers.map((c, i) => c.stats.fromNode - atBye[i]);
    const legsLeft = system.nodes.reduce((n, node) => n + node.legs.activeLegs(), 0);
    const bindingsLeft = (await system.listNodes()).reduce((n, node) => n + node.bound_calls, 0);
    const setupP50 = percentile(res.setupMs, 50);
    const setupP99 = percentile(res.setupMs, 99);

    if (calls <= 30) {
      log(table(['call', 'caller RTP address', 'RTP from its node', 'after BYE'],
        callers.map((c, i) => [res.callIds[i] ?? String(i + 1), `${c.address}:${c.port}`, String(rtp[i]), String(afterBye[i])])));
      log('');
    }
    const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : '–');
    const min = Math.min(...rtp);
    const avg = rtp.reduce((a, b) => a + b, 0) / rtp.length;
    log(table(['calls', 'success', 'setup p50', 'setup p99', 'RTP per call (min / avg)', 'legs left', 'bindings left'], [[
      String(calls), `${res.successful}/${calls}${res.failed ? ` (${res.failed} failed)` : ''}`, fmt(setupP50), fmt(setupP99),
      `${min} / ${avg.toFixed(1)} (≈${Math.round(durationMs / 20)} expected)`, String(legsLeft), String(bindingsLeft),
    ]]));
    const ok = res.exitCode === 0 && res.successful === calls && rtp.every((n) => n > 0) && afterBye.every((n) => n === 0) && legsLeft === 0 && bindingsLeft === 0;
    if (ok) log(`\n  done: every call was answered through Kamailio, carried RTP from its media node, and left no leg.`);
    else {
      log('\n  FAILED: ' + [
        res.successful !== calls && `${calls - res.successful} call(s) did not succeed (SIPp exit ${res.exitCode})`,
        !rtp.every((n) => n > 0) && `${rtp.filter((n) => n === 0).length} call(s) got no RTP`,
        !afterBye.every((n) => n === 0) && 'RTP kept coming after a BYE',
        (legsLeft || bindingsLeft) && `${legsLeft} leg(s) and ${bindingsLeft} binding(s) left`,
      ].filter(Boolean).join('; '));
      if (res.errors) log(res.errors.split('\n').slice(0, 20).join('\n'));
    }
    return { ok, calls, successful: res.successful, failed: res.failed, setupP50, setupP99, rtp, afterBye, legsLeft, bindingsLeft };
  } catch (e) {
    if (e instanceof Aborted) {
      log('\n  interrupted: stopping everything…');
      return empty;
    }
    if (edge?.log && opts.verbose) log(edge.log.slice(-3000));
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    sipp?.kill();
    await Promise.all(callers.map((c) => c.close()));
    await edge?.stop();
    await system?.close();
  }
}
