import type { INestApplication } from '@nestjs/common';
import type { PrepareCallResponse } from '../contract/contract.types';
import { CallPaths, joinUrl } from '../contract/paths';
import type { RunningMediaNode } from '../media-node/media-node.app';
import { startLoopbackSystem } from './loopback-system';
import { type MovedCall, runFailoverScene } from './failover-scene';
import { RtpCaller } from './rtp-caller';
import { Aborted, abortable } from './abortable';

export interface DemoOptions {
  /** Calls placed (all at once, so the pool spreads them). @default 4 */
  calls?: number;
  /** Milliseconds of RTP each way per call. @default 1000 */
  durationMs?: number;
  /** Where the readable output goes. @default console.log */
  log?: (line: string) => void;
  /** Show the services' own logs (warnings and errors otherwise hidden). @default false */
  verbose?: boolean;
  /** Aborts the demo (Ctrl-C): everything started is stopped cleanly. */
  signal?: AbortSignal;
  /**
   * The built media node (`dist/media-node/main.js`): runs the second scene, where a
   * media-node process is SIGKILLed mid-call and its calls are migrated. Without it, no second scene.
   */
  mediaNodeEntry?: string;
}

/** One call's outcome. */
export interface DemoCall {
  callId: string;
  nodeId: string;
  codec: string;
  media: string;
  /** Packets the phone sent to the node. */
  sent: number;
  /** Packets of the node's own stream the phone received. */
  fromNode: number;
  /** The phone's packets the node echoed back. */
  echoed: number;
  /** Node packets that arrived after the delete had been answered (plus a grace period). */
  afterDelete: number;
}

export interface DemoResult {
  ok: boolean;
  calls: DemoCall[];
  /** Node ids in the order they took calls. */
  nodes: string[];
  /** The second scene's moved calls (when it ran). */
  moved?: MovedCall[];
}

const NODE_IDS = ['demo-a', 'demo-b'];

/**
 * The whole system on loopback: the signaling service, two reference media nodes that
 * register themselves, and a few "phones" (UDP sockets) whose calls go through
 * `POST /v1/calls`, get started, exchange RTP both ways, and are deleted. Prints a
 * summary; stops everything it started, even when aborted.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const calls = Math.max(1, Math.min(opts.calls ?? 4, 50));
  const durationMs = Math.max(100, opts.durationMs ?? 1000);
  const signal = opts.signal;
  const { check, pause } = abortable(signal);

  let sig: INestApplication | undefined;
  const nodes: RunningMediaNode[] = [];
  const phones: RtpCaller[] = [];
  try {
    log('rtp-pool demo: the signaling service, two media nodes and the calls all run on 127.0.0.1\n');
    const system = await startLoopbackSystem({ nodeIds: NODE_IDS, log, verbose: opts.verbose, check, pause });
    sig = system.sig;
    nodes.push(...system.nodes);
    const { sigUrl, listNodes } = system;
    log(`  both nodes registered: GET /v1/nodes → ${(await listNodes()).map((n) => `${n.node_id} (${n.control_url})`).join(', ')}\n`);

    log(`  placing ${calls} call(s) at once: POST /v1/calls, then .../start, ${durationMs} ms of RTP each way, then DELETE`);
    for (let i = 0; i < calls; i++) phones.push(await new RtpCaller().open());
    const callId = (i: number) => `demo-call-${i + 1}@127.0.0.1`;
    const post = async <T>(path: string, body?: unknown, method = 'POST'): Promise<{ status: number; data: T }> => {
      const res = await fetch(joinUrl(sigUrl, path), {
        method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, data: (text ? JSON.parse(text) : undefined) as T };
    };

    // Odd calls offer PCMU and PCMA, even ones PCMA only: the node answers the first codec it supports.
    const answers = await Promise.all(phones.map(async (p, i) => {
      const r = await post<PrepareCallResponse & { error?: string }>(CallPaths.calls, { call_id: callId(i), offer_sdp: p.offer(i % 2 ? [8] : [0, 8]) });
      if (r.status !== 201) throw new Error(`POST /v1/calls for ${callId(i)} answered ${r.status}: ${r.data?.error}`);
      return r.data;
    }));
    check();
    for (const [i, a] of answers.entries()) {
      const r = await post<{ error?: string }>(CallPaths.start(a.call_id));
      if (r.status !== 200) throw new Error(`start of ${a.call_id} answered ${r.status}: ${r.data?.error}`);
      phones[i].sendTo(a.media_ip, a.media_port, Math.round(durationMs / 20));
    }
    await pause(durationMs + 200);
    check();
    for (const p of phones) p.stopSending();
    const fromNodeAtDelete: number[] = [];
    for (const [i, a] of answers.entries()) {
      const r = await post<{ error?: string }>(CallPaths.call(a.call_id), undefined, 'DELETE');
      if (r.status !== 204) throw new Error(`DELETE of ${a.call_id} answered ${r.status}: ${r.data?.error}`);
      fromNodeAtDelete[i] = phones[i].stats.fromNode;
    }
    // Packets already in flight when the delete was answered may still land; after that, silence.
    await pause(100);
    const settled = phones.map((p) => p.stats.fromNode);
    await pause(300);
    check();

    const results: DemoCall[] = answers.map((a, i) => ({
      callId: a.call_id, nodeId: a.node_id, codec: a.codec, media: `${a.media_ip}:${a.media_port}`,
      sent: phones[i].stats.sent, fromNode: fromNodeAtDelete[i], echoed: phones[i].stats.echoed,
      afterDelete: phones[i].stats.fromNode - settled[i],
    }));
    log('');
    log(table(
      ['call', 'node', 'codec', 'node media', 'phone→node', 'node→phone', 'echoed back', 'after delete'],
      results.map((r) => [r.callId, r.nodeId, r.codec, r.media, String(r.sent), String(r.fromNode), String(r.echoed), String(r.afterDelete)]),
    ));
    log('');
    const left = await listNodes();
    log(`  after the calls: ${left.map((n) => `${n.node_id} holds ${nodes.find((x) => x.nodeId === n.node_id)?.legs.activeLegs() ?? '?'} leg(s), ${n.bound_calls} bound call(s)`).join('; ')}`);

    log('  stopping the media nodes (draining heartbeat, then DELETE /v1/nodes/{id})…');
    await Promise.all(nodes.splice(0).map((n) => n.close()));
    log(`  GET /v1/nodes → ${JSON.stringify((await listNodes()).map((n) => n.node_id))}`);

    let ok = results.every((r) => r.fromNode > 0 && r.echoed > 0 && r.afterDelete === 0);
    const used = [...new Set(results.map((r) => r.nodeId))];
    log(ok
      ? `\n  done: ${results.length} call(s) over ${used.length} node(s) (${used.join(', ')}); RTP flowed both ways on every call and stopped on delete.`
      : '\n  FAILED: some call did not get RTP both ways (see the table above).');
    let moved: MovedCall[] | undefined;
    if (opts.mediaNodeEntry) {
      moved = await runFailoverScene({ sigUrl, mediaNodeEntry: opts.mediaNodeEntry, log, pause, check });
      log('');
      log(table(
        ['moved call', 'from', 'to', 'packets before kill', 'gap ms', 'packets after'],
        moved.map((m) => [m.callId, m.from, m.to, String(m.before), String(m.gapMs), String(m.after)]),
      ));
      const movedOk = moved.length > 0 && moved.every((m) => m.before > 0 && m.after > 0 && m.gapMs >= 0);
      log(movedOk
        ? `\n  moved ${moved.length} call(s) off the killed node; RTP flows again from the surviving node (largest gap ${Math.max(...moved.map((m) => m.gapMs))} ms).`
        : '\n  FAILED: some moved call got no RTP from its new node.');
      ok &&= movedOk;
    }
    return { ok, calls: results, nodes: used, moved };
  } catch (e) {
    if (e instanceof Aborted) {
      log('\n  interrupted: stopping everything…');
      return { ok: false, calls: [], nodes: [] };
    }
    throw e;
  } finally {
    await Promise.all(phones.map((p) => p.close()));
    await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
    await sig?.close().catch(() => undefined);
  }
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
