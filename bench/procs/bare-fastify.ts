/**
 * The Fastify ceiling: a bare Fastify 5 app (its own JSON parser, no schema) that checks
 * the two required strings and upserts a Map (heartbeats), or forwards a call to a node
 * with undici as bare-http.ts does — round-robin, one keep-alive call, a Call-ID → node
 * Map — and nothing else: the forwarding floor of a service on Fastify.
 * Node control URLs come from BENCH_NODES (comma-separated).
 */
import Fastify, { type FastifyReply } from 'fastify';
import { Agent } from 'undici';
import { failStartup, serveCommands } from '../lib/proc';

const registry = new Map<string, { url: string; legs: number; lastSeen: number }>();
const nodes = (process.env.BENCH_NODES ?? '').split(',').filter(Boolean);
const bindings = new Map<string, string>();
const agent = new Agent({ connections: 64 });
let rr = 0;
const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });

app.post('/v1/nodes/register', async (req, reply) => {
  const b = req.body as { node_id?: unknown; control_url?: unknown; active_legs?: unknown } | undefined;
  if (!b || typeof b.node_id !== 'string' || typeof b.control_url !== 'string') return reply.code(400).send({ error: 'bad body' });
  registry.set(b.node_id, { url: b.control_url, legs: Number(b.active_legs ?? 0), lastSeen: Date.now() });
  return { node_id: b.node_id, ttl_sec: 45, heartbeat_sec: 10 };
});

app.post('/v1/calls', async (req, reply) => {
  const b = req.body as { call_id?: unknown; offer_sdp?: unknown } | undefined;
  if (!b || typeof b.call_id !== 'string' || typeof b.offer_sdp !== 'string') return reply.code(400).send({ error: 'bad body' });
  const url = nodes[rr++ % nodes.length];
  const r = await agent.request({
    origin: url, path: '/v1/legs', method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ call_id: b.call_id, offer_sdp: b.offer_sdp }),
  });
  const text = await r.body.text();
  if (r.statusCode !== 201) return reply.code(502).send({ error: `HTTP ${r.statusCode}` });
  bindings.set(b.call_id, url);
  return reply.code(201).send({ ...(JSON.parse(text) as object), control_url: url });
});

/** Start or delete on the call's node; 404 when the call is not bound here. */
async function onNode(id: string, start: boolean, reply: FastifyReply): Promise<unknown> {
  const url = bindings.get(id);
  if (!url) return reply.code(404).send({ error: 'call not found' });
  if (!start) bindings.delete(id);
  const r = await agent.request({ origin: url, path: `/v1/legs/${encodeURIComponent(id)}${start ? '/start' : ''}`, method: start ? 'POST' : 'DELETE' });
  await r.body.dump();
  if (start) return r.statusCode === 200 ? { call_id: id } : reply.code(502).send({ error: 'node failed' });
  if (r.statusCode !== 204 && r.statusCode !== 404) return reply.code(502).send({ error: 'node failed' });
  return reply.code(204).send();
}

app.post<{ Params: { id: string } }>('/v1/calls/:id/start', (req, reply) => onNode(req.params.id, true, reply));
app.delete<{ Params: { id: string } }>('/v1/calls/:id', (req, reply) => onNode(req.params.id, false, reply));

app.listen({ port: 0, host: '127.0.0.1' }).then((url) => {
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  serveCommands({}, { url: url.replace('localhost', '127.0.0.1') });
}, failStartup);
