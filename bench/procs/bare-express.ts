/**
 * The framework ceiling: a bare Express 5 app doing the same single forwarding hop as
 * the service — JSON body, pick a node (round-robin), one keep-alive node:http call to
 * it, keep the Call-ID → node binding in a Map — and nothing else (no validation, no
 * DI, no store abstraction, no failover). Also a bare heartbeat endpoint (a Map upsert).
 * Node control URLs come from BENCH_NODES (comma-separated).
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { keepAliveAgent, rawRequest } from '../lib/http';
import { failStartup, serveCommands } from '../lib/proc';

const nodes = (process.env.BENCH_NODES ?? '').split(',').filter(Boolean);
const agent = keepAliveAgent(256);
const bindings = new Map<string, string>();
const registry = new Map<string, { url: string; legs: number; lastSeen: number }>();
let rr = 0;

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: 256 * 1024 }));

app.post('/v1/calls', async (req, res) => {
  const { call_id, offer_sdp } = req.body ?? {};
  if (typeof call_id !== 'string' || typeof offer_sdp !== 'string') return void res.status(400).json({ error: 'bad body' });
  const url = nodes[rr++ % nodes.length];
  try {
    const r = await rawRequest(agent, 'POST', `${url}/v1/legs`, { call_id, offer_sdp });
    if (r.status !== 201) return void res.status(502).json({ error: `HTTP ${r.status}` });
    bindings.set(call_id, url);
    res.status(201).json({ ...JSON.parse(r.body), control_url: url });
  } catch (e) {
    res.status(502).json({ error: String(e) });
  }
});

app.post('/v1/calls/:id/start', async (req, res) => {
  const url = bindings.get(req.params.id);
  if (!url) return void res.status(404).json({ error: 'call not found' });
  const r = await rawRequest(agent, 'POST', `${url}/v1/legs/${encodeURIComponent(req.params.id)}/start`).catch(() => undefined);
  if (r?.status !== 200) return void res.status(502).json({ error: 'node failed' });
  res.status(200).json({ call_id: req.params.id });
});

app.delete('/v1/calls/:id', async (req, res) => {
  const url = bindings.get(req.params.id);
  if (!url) return void res.status(404).json({ error: 'call not found' });
  bindings.delete(req.params.id);
  const r = await rawRequest(agent, 'DELETE', `${url}/v1/legs/${encodeURIComponent(req.params.id)}`).catch(() => undefined);
  if (!r || (r.status !== 204 && r.status !== 404)) return void res.status(502).json({ error: 'node failed' });
  res.status(204).end();
});

app.post('/v1/nodes/register', (req, res) => {
  const { node_id, control_url, active_legs } = req.body ?? {};
  if (typeof node_id !== 'string' || typeof control_url !== 'string') return void res.status(400).json({ error: 'bad body' });
  registry.set(node_id, { url: control_url, legs: Number(active_legs ?? 0), lastSeen: Date.now() });
  res.status(200).json({ node_id, ttl_sec: 45, heartbeat_sec: 10 });
});

try {
  const server = app.listen(0, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
    serveCommands({}, { url });
  });
} catch (e) {
  failStartup(e);
}
