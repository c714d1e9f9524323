import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { first, SipClient, type SipResponse } from './sip-client';

/**
 * The SIP edge's move companion: keeps the media of live calls whose media node died.
 *
 * It follows rtp-pool's `GET /v1/events` (reconnecting with Last-Event-ID) and, on `node_down`
 * (the node died) or `drain_deadline` (an operator's drain ran out of time with calls still on
 * the node), takes every call bound to that node (`GET /v1/calls?node_id=`, all pages) and moves it:
 * reads the call's dialog from the edge (an OPTIONS with the call's Call-ID, answered by
 * deploy/kamailio/kamailio.cfg from the dialog it stored with its 200), asks the pool to migrate
 * it with the caller's offer, re-INVITEs the caller through the edge with the new node's
 * address, ACKs the caller's 200 and sends `start` to the pool.
 *
 * It speaks SIP itself, through the edge, because Kamailio 5.6 cannot send an in-dialog request
 * with a given From tag from its config (uac_req_send and tm's t_uac RPC add a tag of their own).
 * The edge relays only what comes from this process's socket (RTP_EDGE_MOVER there).
 *
 * Environment:
 *   RTP_POOL_URL         rtp-pool's base URL, or several separated by commas  http://127.0.0.1:8080
 *   RTP_API_TOKEN        sent as "Authorization: Bearer ..." when set
 *   RTP_EDGE_SIP         the edge's SIP address, ip:port (UDP)              127.0.0.1:5060
 *   RTP_EDGE_MOVER_PORT  this process's SIP port on RTP_EDGE_MOVER_IP (the edge's RTP_EDGE_MOVER)  5062
 *   RTP_EDGE_MOVER_IP    its address                                       127.0.0.1
 *   RTP_MOVE_CONCURRENCY calls moved at once                               8
 *
 * It prints one JSON line per such event {"node_down" or "drain_deadline": node_id, at, calls} and per move
 * {"moved": call_id, from, to, status ("moved", or the step that failed), at (epoch ms), ms}.
 */

const env = process.env;
// Several URLs (instances sharing one Redis store, whose streams all carry every event): the
// companion uses one, and the next when it cannot follow the events of the current one.
const POOLS = (env.RTP_POOL_URL || 'http://127.0.0.1:8080').split(',').map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
let POOL = POOLS[0];
const TOKEN = env.RTP_API_TOKEN || '';
const [EDGE_IP, EDGE_PORT] = hostPort(env.RTP_EDGE_SIP || '127.0.0.1:5060');
const MY_IP = env.RTP_EDGE_MOVER_IP || '127.0.0.1';
const MY_PORT = Number(env.RTP_EDGE_MOVER_PORT || 5062);
const CONCURRENCY = Math.max(1, Number(env.RTP_MOVE_CONCURRENCY || 8));

function hostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

function log(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

const headers = (json = false): Record<string, string> => ({
  ...(json ? { 'content-type': 'application/json' } : {}),
  ...(TOKEN ? { authorization: `Bearer ${TOKEN}` } : {}),
});

// ---- the move ----------------------------------------------------------------------------

interface Dialog {
  from: string;
  contact: string;
  to_tag: string;
  offer_sdp: string;
  /** The o= version of the SDP answer this move sends (the edge counts them per call). */
  sdp_version: number;
}

const PAYLOAD_TYPES: Record<string, number> = { PCMU: 0, GSM: 3, PCMA: 8, G722: 9, G729: 18 };
// The edge never sends an in-dialog request of its own: any CSeq above the previous move's
// is in order for the caller. Seconds since the epoch keep that true across restarts.
let cseq = Math.floor(Date.now() / 1000) % 2 ** 30;

/** The SDP answer for the new leg, as the edge's 200 builds it (route[ANSWER]). */
function answerSdp(ip: string, port: number, codec: string, version: number): string {
  const pt = PAYLOAD_TYPES[codec.toUpperCase()];
  if (pt === undefined) throw new Error(`codec ${codec} has no static payload type`);
  const ipv = ip.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0', `o=rtp-pool ${Math.floor(Date.now() / 1000)} ${version} IN ${ipv} ${ip}`, 's=rtp-pool', `c=IN ${ipv} ${ip}`, 't=0 0',
    `m=audio ${port} RTP/AVP ${pt}`, `a=rtpmap:${pt} ${codec.toUpperCase()}/8000`, 'a=sendrecv', '',
  ].join('\r\n');
}

const uriOf = (contact: string) => /<([^>]+)>/.exec(contact)?.[1] ?? contact.split(';')[0].trim();

async function readDialog(sip: SipClient, callId: string): Promise<Dialog | undefined> {
  const r = await sip.request((branch) => [
    `OPTIONS sip:edge@${EDGE_IP}:${EDGE_PORT} SIP/2.0`,
    `Via: SIP/2.0/UDP ${MY_IP}:${MY_PORT};branch=${branch}`,
    `From: <sip:mover@${MY_IP}:${MY_PORT}>;tag=${randomBytes(6).toString('hex')}`,
    `To: <sip:edge@${EDGE_IP}:${EDGE_PORT}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n'), false);
  if (r.status !== 200) return undefined;
  return JSON.parse(r.body) as Dialog;
}

async function move(sip: SipClient, callId: string, fromNode: string): Promise<void> {
  const started = Date.now();
  const report = (status: string, extra: Record<string, unknown> = {}) =>
    log({ moved: callId, from: fromNode, status, at: Date.now(), ms: Date.now() - started, ...extra });
  const dlg = await readDialog(sip, callId).catch(() => undefined);
  if (!dlg) return report('no-dialog');
  const res = await fetch(`${POOL}/v1/calls/${encodeURIComponent(callId)}/migrate`, {
    method: 'POST', headers: headers(true), body: JSON.stringify({ offer_sdp: dlg.offer_sdp }),
  });
  const leg = (await res.json().catch(() => ({}))) as { media_ip?: string; media_port?: number; codec?: string; node_id?: string };
  if (res.status !== 200 || !leg.media_ip || !leg.media_port || !leg.codec) return report(`migrate-${res.status}`);
  const sdp = answerSdp(leg.media_ip, leg.media_port, leg.codec, dlg.sdp_version);
  const ruri = uriOf(dlg.contact);
  const common = (branch: string, to = dlg.from) => [
    `Via: SIP/2.0/UDP ${MY_IP}:${MY_PORT};branch=${branch}`,
    `From: <sip:rtp-pool@${EDGE_IP}:${EDGE_PORT}>;tag=${dlg.to_tag}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
  ];
  let final: SipResponse | undefined;
  let acked = false;
  // 491: the caller's own re-INVITE crossed this one. RFC 3261 §14.1: the side that did not
  // choose the Call-ID tries again after 0–2 s.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const n = ++cseq;
    let inviteBranch = '';
    final = await sip.request((branch) => {
      inviteBranch = branch;
      return [
        `INVITE ${ruri} SIP/2.0`, ...common(branch), `CSeq: ${n} INVITE`,
        `Contact: <sip:rtp-pool@${EDGE_IP}:${EDGE_PORT};transport=udp>`, 'Max-Forwards: 70',
        'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
      ].join('\r\n');
    }, true, (r) => {
      // A 2xx is ACKed end to end (a new transaction, to the caller's Contact), every copy of
      // it; an error reply hop by hop, in the INVITE's transaction, so the edge stops resending it.
      const okay = r.status < 300;
      sip.send([`ACK ${okay ? uriOf(first(r, 'contact')) || ruri : ruri} SIP/2.0`,
        ...common(okay ? `z9hG4bK-mv-${randomBytes(8).toString('hex')}` : inviteBranch, first(r, 'to')),
        `CSeq: ${n} ACK`, 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n'));
      if (okay) acked = true;
    }).catch(() => undefined);
    if (final?.status !== 491) break;
    await new Promise((r) => setTimeout(r, Math.random() * 2000));
  }
  if (!final || final.status >= 300 || !acked) return report(`reinvite-${final?.status ?? 'timeout'}`, { to: leg.node_id });
  const st = await fetch(`${POOL}/v1/calls/${encodeURIComponent(callId)}/start`, { method: 'POST', headers: headers(true), body: '{}' });
  report(st.status === 200 ? 'moved' : `start-${st.status}`, { to: leg.node_id });
}

async function callsOf(nodeId: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const q = `node_id=${encodeURIComponent(nodeId)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(`${POOL}/v1/calls?${q}`, { headers: headers() });
    if (res.status !== 200) throw new Error(`GET /v1/calls answered ${res.status}`);
    const page = (await res.json()) as { calls: { call_id: string }[]; next_cursor: string | null };
    out.push(...page.calls.map((c) => c.call_id));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

async function moveAll(sip: SipClient, event: string, nodeId: string): Promise<void> {
  const ids = await callsOf(nodeId);
  log({ [event]: nodeId, at: Date.now(), calls: ids.length });
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      await move(sip, id, nodeId).catch((e: Error) => log({ moved: id, from: nodeId, status: 'error', error: e.message }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
}

// ---- the event stream --------------------------------------------------------------------

/** The pool sends a keep-alive at least every 15 s: a stream silent for longer is dead. */
const SILENCE_MS = 45_000;

async function follow(onEvent: (event: string, data: Record<string, unknown>) => void): Promise<never> {
  let lastId: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const abort = new AbortController();
    let watchdog = setTimeout(() => abort.abort(), SILENCE_MS);
    try {
      const res = await fetch(`${POOL}/v1/events`, { headers: { ...headers(), ...(lastId ? { 'last-event-id': lastId } : {}) }, signal: abort.signal });
      if (res.status !== 200 || !res.body) throw new Error(`GET /v1/events answered ${res.status}`);
      log({ events: 'connected', pool: POOL });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => abort.abort(), SILENCE_MS);
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = '';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('id: ')) lastId = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event && data) onEvent(event, JSON.parse(data) as Record<string, unknown>);
        }
      }
    } catch (e) {
      log({ events: 'lost', pool: POOL, error: (e as Error).message });
    }
    clearTimeout(watchdog);
    POOL = POOLS[(attempt + 1) % POOLS.length];
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(MY_PORT, MY_IP, () => resolve());
  });
  const sip = new SipClient(socket, { ip: EDGE_IP, port: EDGE_PORT });
  await follow((event, data) => {
    if ((event !== 'node_down' && event !== 'drain_deadline') || typeof data.node_id !== 'string') return;
    void moveAll(sip, event, data.node_id).catch((e: Error) => log({ [event]: data.node_id, error: e.message }));
  });
}

void main().catch((e: Error) => {
  process.stderr.write(`edge-companion: ${e.message}\n`);
  process.exit(1);
});
