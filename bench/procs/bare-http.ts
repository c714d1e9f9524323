/**
 * The Node ceiling for heartbeat ingest: a bare node:http server that reads the body,
 * JSON.parse-s it, checks the two required strings and upserts a Map. No framework.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { failStartup, serveCommands } from '../lib/proc';

const registry = new Map<string, { url: string; legs: number; lastSeen: number }>();
const REPLY_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { ...REPLY_HEADERS, 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
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
