import { type ChildProcess, spawn } from 'node:child_process';
import type { CallListResponse, MigrateCallResponse, NodeInfo, PrepareCallResponse } from '../contract/contract.types';
import { type DemoEvent, subscribeEvents } from './event-stream-reader';
import { RtpCaller } from './rtp-caller';

/** One call moved off the killed node. */
export interface MovedCall {
  callId: string;
  from: string;
  to: string;
  /** Node packets the phone got before the kill. */
  before: number;
  /** Milliseconds between the last packet of the old node and the first of the new one. */
  gapMs: number;
  /** Node packets from the new node. */
  after: number;
}

export interface FailoverSceneOptions {
  sigUrl: string;
  /** `dist/media-node/main.js`: the media nodes are child processes (one is SIGKILLed). */
  mediaNodeEntry: string;
  log: (line: string) => void;
  pause: (ms: number) => Promise<void>;
  check: () => void;
}

const IDS = ['demo-c', 'demo-d'];

/**
 * The second scene: calls on two media-node processes; one is SIGKILLed; the signaling
 * side, subscribed to `GET /v1/events`, gets `node_down`, lists that node's calls
 * (`GET /v1/calls?node_id=`), migrates each (`POST /v1/calls/{id}/migrate` with the phone's
 * offer), points the phone at the new media address and starts the call again: RTP flows
 * from the surviving node. Returns one row per moved call.
 */
export async function runFailoverScene(o: FailoverSceneOptions): Promise<MovedCall[]> {
  const children: ChildProcess[] = [];
  const phones: RtpCaller[] = [];
  let events: { close(): void } | undefined;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(o.sigUrl + path, {
      method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  // A 503 (no other node usable right now) is worth a few retries, as a signaling application would.
  const migrate = async (id: string, offer: string): Promise<MigrateCallResponse> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call<MigrateCallResponse>('POST', `/v1/calls/${encodeURIComponent(id)}/migrate`, { offer_sdp: offer });
      } catch (e) {
        if (attempt >= 5 || !/answered 503/.test((e as Error).message)) throw e;
        await o.pause(200);
      }
    }
  };
  try {
    o.log('\n  scene 2: a media node dies mid-call (SIGKILL) and its calls move to the other one');
    for (const [i, id] of IDS.entries()) {
      const min = 32000 + i * 1000;
      children.push(spawn(process.execPath, [o.mediaNodeEntry], {
        stdio: 'ignore',
        env: {
          ...process.env, RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0', RTP_NODE_ID: id, RTP_MEDIA_IP: '127.0.0.1',
          RTP_MEDIA_BIND_IP: '127.0.0.1', RTP_PORT_MIN: String(min), RTP_PORT_MAX: String(min + 999), SIP_REGISTRY_URL: o.sigUrl,
          RTP_DRAIN_TIMEOUT_SEC: '0', LOG_LEVEL: 'silent',
        },
      }));
    }
    const deadline = Date.now() + 15_000;
    for (;;) {
      const nodes = (await call<{ nodes: NodeInfo[] }>('GET', '/v1/nodes')).nodes;
      if (IDS.every((id) => nodes.some((n) => n.node_id === id && n.healthy))) break;
      if (Date.now() > deadline) throw new Error('the media-node processes did not register within 15 s');
      await o.pause(100);
      o.check();
    }
    o.log(`  media nodes ${IDS.join(' and ')} run as child processes; the signaling side subscribes to GET /v1/events`);

    const downs: DemoEvent[] = [];
    let onDown: (() => void) | undefined;
    events = await subscribeEvents(`${o.sigUrl}/v1/events`, (e) => {
      if (e.event === 'node_down') {
        downs.push(e);
        onDown?.();
      }
    });

    // Four calls at once: the pool spreads them over both nodes.
    for (let i = 0; i < 4; i++) phones.push(await new RtpCaller().open());
    const callId = (i: number) => `demo-move-${i + 1}@127.0.0.1`;
    const answers = await Promise.all(phones.map((p, i) => call<PrepareCallResponse>('POST', '/v1/calls', { call_id: callId(i), offer_sdp: p.offer() })));
    for (const [i, a] of answers.entries()) {
      await call('POST', `/v1/calls/${encodeURIComponent(a.call_id)}/start`);
      phones[i].sendTo(a.media_ip, a.media_port);
    }
    await o.pause(600);
    o.check();

    const victim = answers[0].node_id;
    const rows = (await call<{ nodes: NodeInfo[] }>('GET', '/v1/nodes')).nodes;
    o.log(`  before: ${rows.map((n) => `${n.node_id} ${n.bound_calls} bound call(s), ${n.active_legs} leg(s)`).join('; ')}`);
    const child = children[IDS.indexOf(victim)];
    const before = phones.map((p) => p.stats.fromNode);
    const down = new Promise<void>((resolve) => (onDown = resolve));
    child.kill('SIGKILL');
    const killedAt = Date.now();
    o.log(`  SIGKILL ${victim} (${answers.filter((a) => a.node_id === victim).length} call(s) on it)`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([down, new Promise<void>((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    o.check();
    const ev = downs[0];
    if (!ev) throw new Error('no node_down within 10 s of the kill');
    o.log(`  event: node_down ${JSON.stringify(ev.data)} (id ${ev.id}), ${Date.now() - killedAt} ms after the kill`);

    const list = await call<CallListResponse>('GET', `/v1/calls?node_id=${encodeURIComponent(String(ev.data.node_id))}`);
    o.log(`  GET /v1/calls?node_id=${ev.data.node_id} → ${list.calls.length} call(s); migrating each`);
    const moved: Array<{ i: number; answer: MigrateCallResponse; oldSsrcs: Set<number> }> = [];
    for (const c of list.calls) {
      const i = answers.findIndex((a) => a.call_id === c.call_id);
      const oldSsrcs = new Set(phones[i].stats.streams.keys());
      const answer = await migrate(c.call_id, phones[i].offer());
      // The re-INVITE towards the phone, then its ACK: the phone sends to the new address, start.
      phones[i].sendTo(answer.media_ip, answer.media_port);
      await call('POST', `/v1/calls/${encodeURIComponent(c.call_id)}/start`);
      moved.push({ i, answer, oldSsrcs });
    }
    await o.pause(600);
    o.check();
    for (const p of phones) p.stopSending();

    return moved.map(({ i, answer, oldSsrcs }) => {
      const s = phones[i].stats.streams;
      const old = [...oldSsrcs].map((k) => s.get(k)!).sort((a, b) => b.last - a.last)[0];
      const fresh = [...s.entries()].filter(([k]) => !oldSsrcs.has(k)).map(([, v]) => v);
      const first = Math.min(...fresh.map((v) => v.first));
      return {
        callId: answer.call_id, from: answer.previous_node_id, to: answer.node_id, before: before[i],
        gapMs: fresh.length && old ? first - old.last : -1, after: fresh.reduce((n, v) => n + v.packets, 0),
      };
    });
  } finally {
    events?.close();
    await Promise.all(phones.map((p) => p.close()));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
