/**
 * The Node ceiling: a bare node:http server that reads the body, JSON.parse-s it, checks
 * the required strings and upserts a Map (heartbeats), or forwards a call to a node with
 * undici, as the service does — pick a node (round-robin), one keep-alive call, keep the
 * Call-ID → node binding in a Map — and nothing else (no validation, no DI, no store, no
 * failover, no logs, no metrics). The forwarding floor of any service on this machine.
 * Node control URLs come from BENCH_NODES (comma-separated).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { failStartup, serveCommands } from '../lib/proc';

const registry = new Map<string, { url: string; legs: number; lastSeen: number }>();
const nodes = (process.env.BENCH_NODES ?? '').split(',').filter(Boolean);
const bindings = new Map<string, string>();
const agent = new Agent({ connections: 64 });
let rr = 0;
const REPLY_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { ...REPLY_HEADERS, 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

/** A prepare on a node; resolves to its status and body text. */
async function prepareOn(url: string, body: string): Promise<{ status: number; text: string }> {
  const r = await agent.request({ origin: url, path: '/v1/legs', method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: r.statusCode, text: await r.body.text() };
}

async function call(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
  if (req.method === 'POST' && req.url === '/v1/calls') {
    const b = JSON.parse(raw) as { call_id?: unknown; offer_sdp?: unknown };
    if (typeof b.call_id !== 'string' || typeof b.offer_sdp !== 'string') return reply(res, 400, { error: 'bad body' });
    const url = nodes[rr++ % nodes.length];
    const r = await prepareOn(url, JSON.stringify({ call_id: b.call_id, offer_sdp: b.offer_sdp }));
    if (r.status !== 201) return reply(res, 502, { error: `HTTP ${r.status}` });
    bindings.set(b.call_id, url);
    return reply(res, 201, { ...JSON.parse(r.text), control_url: url });
  }
  const m = /^\/v1\/calls\/([^/]+)(\/start)?$/.exec(req.url ?? '');
  const id = m ? decodeURIComponent(m[1]) : '';
  const url = bindings.get(id);
  if (!m || !url) return reply(res, 404, { error: 'call not found' });
  const start = m[2] !== undefined;
  if (!start) bindings.delete(id);
  const leg = new URL(`/v1/legs/${encodeURIComponent(id)}${start ? '/start' : ''}`, url);
  const r = await agent.request({ origin: leg.origin, path: leg.pathname, method: start ? 'POST' : 'DELETE' });
  await r.body.dump();
  if (start) return r.statusCode === 200 ? reply(res, 200, { call_id: id }) : reply(res, 502, { error: 'node failed' });
  if (r.statusCode !== 204 && r.statusCode !== 404) return reply(res, 502, { error: 'node failed' });
  res.writeHead(204).end();
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url?.startsWith('/v1/calls')) {
      return void call(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => reply(res, 502, { error: String(e) }));
    }
    if (req.method !== 'POST' || req.url !== '/v1/nodes/register') return reply(res, 404, { error: 'not found' });
    let b: { node_id?: unknown; control_url?: unknown; active_legs?: unknown } | undefined;
    try {
      b = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, { error: 'malformed JSON body' });
    }
    if (!b || typeof b.node_id !== 'string' || typeof b.control_url !== 'string') return reply(res, 400, { error: 'bad body' });
    registry.set(b.node_id, { url: b.control_url, legs: Number(b.active_legs ?? 0), lastSeen: Date.now() });
    reply(res, 200, { node_id: b.node_id, ttl_sec: 45, heartbeat_sec: 10 });
  });
});

try {
  server.listen(0, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
    serveCommands({}, { url });
  });
} catch (e) {
  failStartup(e);
}
