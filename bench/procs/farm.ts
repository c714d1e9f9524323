/**
 * Fake media nodes for the benchmark: one process serving many node ids, each on its
 * own loopback port, speaking CONTRACT §2 like the Go media node (prepare → 201,
 * start → 200, delete → 204, unknown leg → 404). Lean on purpose: unlike the test
 * fixture (test/support/fake-media-node.ts) it records no requests, so it can serve
 * 1,000 nodes and 100,000s of requests without growing.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { failStartup, serveCommands } from '../lib/proc';

type Mode = 'ok' | 'blackhole';

interface FakeNode {
  id: string;
  url: string;
  mode: Mode;
  server: http.Server;
  sockets: Set<Socket>;
  legs: Map<string, number>;
  nextPort: number;
}

const nodes = new Map<string, FakeNode>();
/** Connections accepted since start, over all nodes (see the `stats` command). */
let accepted = 0;
const LEG = /^\/v1\/legs\/([^/]+)(\/start)?$/;
/** The `media_ip` every answer names (BENCH_FARM_MEDIA_IP; bench/profile-memory.ts sets a 15-character one). */
const MEDIA_IP = process.env.BENCH_FARM_MEDIA_IP ?? '127.0.0.1';

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function handle(node: FakeNode, req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (node.mode === 'blackhole') return; // accept, never answer
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/v1/health') {
      return send(res, 200, { status: 'ok', node_id: node.id, active_legs: node.legs.size, media_ip: MEDIA_IP });
    }
    if (req.method === 'POST' && url === '/v1/legs') {
      let b: { call_id?: unknown; offer_sdp?: unknown } | undefined;
      try {
        b = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        b = undefined;
      }
      if (!b || typeof b.call_id !== 'string' || typeof b.offer_sdp !== 'string') return send(res, 400, { error: 'bad body' });
      node.nextPort = node.nextPort >= 60000 ? 20000 : node.nextPort + 2;
      node.legs.set(b.call_id, node.nextPort);
      return send(res, 201, { call_id: b.call_id, node_id: node.id, media_ip: MEDIA_IP, media_port: node.nextPort, codec: 'PCMU' });
    }
    const m = LEG.exec(url);
    if (m) {
      const callId = decodeURIComponent(m[1]);
      if (req.method === 'POST' && m[2]) return node.legs.has(callId) ? send(res, 200, { status: 'active' }) : send(res, 404, { error: 'leg not found' });
      if (req.method === 'DELETE' && !m[2]) return node.legs.delete(callId) ? send(res, 204) : send(res, 404, { error: 'leg not found' });
    }
    send(res, 404, { error: 'not found' });
  });
}

async function addNode(id: string): Promise<FakeNode> {
  const sockets = new Set<Socket>();
  const node: FakeNode = { id, url: '', mode: 'ok', server: undefined as never, sockets, legs: new Map(), nextPort: 20000 };
  const server = http.createServer((req, res) => handle(node, req, res));
  // Like Go's net/http server: idle keep-alive connections are not cut after 5 s.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    accepted++;
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  node.server = server;
  node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  nodes.set(id, node);
  return node;
}

async function closeNode(n: FakeNode): Promise<void> {
  for (const s of n.sockets) s.destroy();
  await new Promise<void>((r) => n.server.close(() => r()));
  nodes.delete(n.id);
}

try {
  serveCommands({
    /** Starts `count` nodes `<prefix>-1 … <prefix>-count`; returns their ids and control URLs. */
    async add(m) {
      const count = Number(m.count);
      const prefix = String(m.prefix ?? 'node');
      const out: { id: string; url: string }[] = [];
      for (let i = 1; i <= count; i++) {
        const n = await addNode(`${prefix}-${i}`);
        out.push({ id: n.id, url: n.url });
      }
      return { nodes: out };
    },
    mode(m) {
      const n = nodes.get(String(m.nodeId));
      if (!n) throw new Error(`no node ${String(m.nodeId)}`);
      n.mode = m.mode as Mode;
      // A black hole also swallows the connections already open to it.
      return {};
    },
    /** Legs held per node id. */
    legs() {
      const counts: Record<string, number> = {};
      for (const n of nodes.values()) counts[n.id] = n.legs.size;
      return { counts };
    },
    /** Drops the legs of every node (or of the nodes whose id starts with `prefix`). */
    clearLegs(m) {
      const prefix = typeof m.prefix === 'string' ? m.prefix : '';
      for (const n of nodes.values()) if (n.id.startsWith(prefix)) n.legs.clear();
      return {};
    },
    /** This process's CPU time (µs) and the connections accepted so far, to take differences over a run. */
    stats() {
      const c = process.cpuUsage();
      return { cpuUs: c.user + c.system, accepted };
    },
    async closeAll() {
      await Promise.all([...nodes.values()].map(closeNode));
      return {};
    },
  });
} catch (e) {
  failStartup(e);
}
