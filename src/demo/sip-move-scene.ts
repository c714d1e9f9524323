import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpCaller } from './rtp-caller';
import { freeUdpPort, KamailioEdge, type SipTools } from './sip-tools';
import { percentile, type SippResult, startSipp } from './sipp-runner';

export interface SipMoveSceneOptions {
  /** rtp-pool's base URL (probing its nodes every ~200 ms, so a kill shows within a few hundred ms). */
  poolUrl: string;
  tools: SipTools;
  /** Built entry points: dist/media-node/main.js and dist/edge-companion/main.js. */
  mediaNodeEntry: string;
  companionEntry: string;
  /** Calls SIPp places (all up at once before the kill). @default 40 */
  calls?: number;
  /** Calls per second. @default 20 */
  rate?: number;
  /**
   * How the first node loses its calls: SIGKILL (`node_down`), or an operator drain with a
   * 1 s deadline (`drain_deadline`; the node keeps sending until each call has moved). @default 'kill'
   */
  how?: 'kill' | 'drain';
  log: (line: string) => void;
}

/** One call that was live on the killed node. */
export interface MovedCall {
  callId: string;
  /** Last RTP packet from the killed node → first from the survivor, ms; undefined when none came. */
  gapMs?: number;
  /** Packets from the survivor. */
  after: number;
  /** The move's outcome as the companion printed it ("moved", or the step that failed). */
  status: string;
  /** The re-INVITE the caller received carried the edge's tag of the call's 200. */
  inDialog: boolean;
}

export interface SipMoveSceneResult {
  sipp: SippResult;
  how: 'kill' | 'drain';
  calls: number;
  killedNode: string;
  moved: MovedCall[];
  /** Call-IDs that got a re-INVITE (from SIPp's trace). */
  reinvited: string[];
  /** Kill (or drain) → the companion's node_down (drain_deadline), ms. */
  nodeDownMs?: number;
  /** One move (dialog, migrate, re-INVITE, ACK, start), ms, per moved call. */
  moveMs: number[];
  /** While the calls were up, after the moves: the killed node bound nothing and the survivor's legs were the calls bound to it. */
  convergedWhileUp: boolean;
  /** After the BYEs: legs the survivor still held, calls still bound. */
  legsLeft: number;
  bindingsLeft: number;
  /** What the companion printed. */
  companionOutput: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Every call the pool binds to `nodeId` (all pages). */
export async function bindingsOf(poolUrl: string, nodeId: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { calls: { call_id: string }[]; next_cursor: string | null } = await getJson(
      `${poolUrl}/v1/calls?node_id=${encodeURIComponent(nodeId)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.calls.map((c) => c.call_id));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return true;
    await sleep(100);
  }
  return false;
}

/**
 * From SIPp's message trace: per Call-ID, the edge's To-tag in the 200 of the INVITE, and the
 * From-tag of each in-dialog INVITE the caller received.
 */
function dialogTags(trace: string): { answered: Map<string, string>; reinvites: Map<string, string> } {
  const answered = new Map<string, string>();
  const reinvites = new Map<string, string>();
  for (const block of trace.split(/^-{10,}.*$/m)) {
    if (!/UDP message received/.test(block)) continue;
    const msg = block.slice(block.indexOf('\n\n') + 2).trimStart();
    const hdr = (name: string) => new RegExp(`^${name}:(.*)$`, 'mi').exec(msg)?.[1].trim() ?? '';
    const tag = (v: string) => /;tag=([^;\s>]+)/.exec(v)?.[1] ?? '';
    if (msg.startsWith('SIP/2.0 200') && hdr('CSeq') === '1 INVITE') answered.set(hdr('Call-ID'), tag(hdr('To')));
    else if (msg.startsWith('INVITE ')) reinvites.set(hdr('Call-ID'), tag(hdr('From')));
  }
  return { answered, reinvites };
}

/**
 * Live calls of a dead media node keep their media: two reference media node processes,
 * Kamailio (deploy/kamailio/kamailio.cfg) with the move companion beside it, SIPp callers
 * (deploy/sipp/uac-move.xml) whose offers point at sockets of this process. With every call up,
 * the node holding the first call is SIGKILLed; the companion moves its calls, and each caller's
 * socket shows when the killed node's stream stopped and the survivor's began.
 */
export async function runSipMoveScene(o: SipMoveSceneOptions): Promise<SipMoveSceneResult> {
  const calls = o.calls ?? 40;
  const rate = o.rate ?? 20;
  const ids = ['move-a', 'move-b'];
  const nodes: ChildProcess[] = [];
  let companion: ChildProcess | undefined;
  let companionOutput = '';
  let k: KamailioEdge | undefined;
  const callers: RtpCaller[] = [];
  const traceDir = mkdtempSync(join(tmpdir(), 'rtp-pool-move-'));
  try {
    for (const id of ids) {
      const min = 20000 + 2 * randomInt(0, 19000);
      nodes.push(spawn(process.execPath, [o.mediaNodeEntry], {
        stdio: 'ignore',
        env: {
          ...process.env, RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0', RTP_NODE_ID: id, RTP_MEDIA_IP: '127.0.0.1',
          RTP_MEDIA_BIND_IP: '127.0.0.1', RTP_PORT_MIN: String(min), RTP_PORT_MAX: String(min + 1999), SIP_REGISTRY_URL: o.poolUrl,
          RTP_DRAIN_TIMEOUT_SEC: '0', LOG_LEVEL: 'silent',
        },
      }));
    }
    const listed = async () => (await getJson<{ nodes: { node_id: string; control_url: string }[] }>(`${o.poolUrl}/v1/nodes`)).nodes;
    // Process start-up on a loaded machine can take many seconds.
    if (!(await until(async () => (await listed()).filter((n) => ids.includes(n.node_id)).length === 2, 30_000))) {
      throw new Error('the media-node processes did not register within 30 s');
    }
    const urls = Object.fromEntries((await listed()).map((n) => [n.node_id, n.control_url]));
    o.log(`  media nodes ${ids.join(' and ')} run as child processes`);

    const moverPort = await freeUdpPort();
    k = await new KamailioEdge(o.tools.kamailio, { poolUrl: o.poolUrl, children: 16, mover: `127.0.0.1:${moverPort}` }).start();
    const child = spawn(process.execPath, [o.companionEntry], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RTP_POOL_URL: o.poolUrl, RTP_EDGE_SIP: k.address, RTP_EDGE_MOVER_PORT: String(moverPort) },
    });
    companion = child;
    child.stdout!.on('data', (d: Buffer) => (companionOutput += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (companionOutput += d.toString()));
    if (!(await until(async () => companionOutput.includes('"connected"'), 30_000))) throw new Error(`the companion did not follow /v1/events:\n${companionOutput}`);
    o.log(`  Kamailio sip:${k.address}, move companion (dist/edge-companion) on 127.0.0.1:${moverPort} following ${o.poolUrl}/v1/events`);

    for (let i = 0; i < calls; i++) callers.push(await new RtpCaller().open());
    const run = await startSipp(o.tools.sipp, {
      scenario: 'uac-move.xml', target: k.address, calls, rate,
      callers: callers.map((c) => ({ ip: c.address, port: c.port })),
      args: ['-trace_msg', '-message_file', join(traceDir, 'messages.log')],
    });
    o.log(`  SIPp (deploy/sipp/uac-move.xml): ${calls} calls at ${rate}/s`);
    const bound = async () => (await bindingsOf(o.poolUrl, ids[0])).length + (await bindingsOf(o.poolUrl, ids[1])).length;
    if (!(await until(async () => (await bound()) === calls, 15_000))) throw new Error(`not every call was bound within 15 s (${await bound()} of ${calls})`);
    await sleep(500);
    const killedNode = ids[0];
    const onKilled = await bindingsOf(o.poolUrl, killedNode);
    if (o.how === 'drain') {
      const res = await fetch(`${o.poolUrl}/v1/nodes/${killedNode}/drain`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deadline_sec: 1 }),
      });
      if (res.status !== 200) throw new Error(`drain answered ${res.status}`);
    } else nodes[0].kill('SIGKILL');
    const killedAt = Date.now();
    o.log(`  every call up: ${o.how === 'drain' ? 'drain (deadline 1 s)' : 'SIGKILL'} ${killedNode} with ${onKilled.length} call(s) on it`);

    const survivorLegs = async () => (await getJson<{ legs: { call_id: string }[] }>(`${urls[ids[1]]}/v1/legs`)).legs.map((l) => l.call_id).sort();
    const convergedWhileUp = await until(async () => (await bindingsOf(o.poolUrl, killedNode)).length === 0
      && JSON.stringify(await survivorLegs()) === JSON.stringify((await bindingsOf(o.poolUrl, ids[1])).sort()), 10_000);

    const sipp = await run.done;
    const lines = companionOutput.split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { moved?: string; node_down?: string; drain_deadline?: string; status?: string; at: number; ms: number });
    const down = lines.find((l) => (l.node_down ?? l.drain_deadline) === killedNode);
    const tags = dialogTags(readFileSync(join(traceDir, 'messages.log'), 'latin1'));
    // SIPp's call ids are `<n>-<pid>@<ip>`, n from 1 in call order: call n's caller is callers[n - 1].
    const callerOf = (callId: string) => callers[Number(/^(\d+)-/.exec(callId)![1]) - 1];
    const moved = onKilled.map((callId): MovedCall => {
      // One stream per leg (its SSRC): the first node's, then the survivor's. After a drain the
      // first stops when the migrate deletes its leg, not at the drain.
      const streams = [...callerOf(callId).stats.streams.values()].sort((a, b) => a.first - b.first);
      const before = streams.filter((s) => s.first <= killedAt).pop();
      const after = streams.find((s) => s.first > killedAt);
      const tag = tags.reinvites.get(callId);
      return {
        callId, gapMs: before && after ? after.first - before.last : undefined, after: after?.packets ?? 0,
        status: lines.find((l) => l.moved === callId)?.status ?? 'not moved',
        inDialog: tag !== undefined && tag === tags.answered.get(callId),
      };
    });
    await until(async () => (await survivorLegs()).length === 0 && (await bindingsOf(o.poolUrl, ids[1])).length === 0, 10_000);
    return {
      sipp, how: o.how ?? 'kill', calls, killedNode, moved, reinvited: [...tags.reinvites.keys()],
      nodeDownMs: down ? down.at - killedAt : undefined,
      moveMs: lines.filter((l) => l.status === 'moved').map((l) => l.ms),
      convergedWhileUp, legsLeft: (await survivorLegs()).length, bindingsLeft: (await bindingsOf(o.poolUrl, ids[1])).length,
      companionOutput,
    };
  } finally {
    await k?.stop();
    companion?.kill('SIGKILL');
    for (const n of nodes) if (n.exitCode === null && n.signalCode === null) n.kill('SIGKILL');
    await Promise.all(callers.map((c) => c.close()));
    rmSync(traceDir, { recursive: true, force: true });
  }
}

/** The scene's figures, one line: moved calls with media again, RTP gap p50/max, detection, one move. */
export function summarizeMoves(r: SipMoveSceneResult): string {
  const gaps = r.moved.flatMap((m) => (m.gapMs === undefined ? [] : [m.gapMs]));
  const [what, event] = r.how === 'drain' ? ['drained', 'drain → drain_deadline'] : ['killed', 'kill → node_down'];
  return `${r.moved.filter((m) => m.after > 0).length}/${r.moved.length} calls of the ${what} node got RTP from the survivor again (${r.calls} up); `
    + `RTP gap p50 ${percentile(gaps, 50)} ms, max ${gaps.length ? Math.max(...gaps) : NaN} ms; ${event} ${r.nodeDownMs ?? '?'} ms; `
    + `one move p50 ${percentile(r.moveMs, 50)} ms, max ${r.moveMs.length ? Math.max(...r.moveMs) : NaN} ms`;
}
