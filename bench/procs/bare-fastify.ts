/**
 * The Fastify ceiling for heartbeat ingest: a bare Fastify 5 app (its own JSON parser,
 * no schema) that checks the two required strings and upserts a Map.
 */
import Fastify from 'fastify';
import { failStartup, serveCommands } from '../lib/proc';

const registry = new Map<string, { url: string; legs: number; lastSeen: number }>();
const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });

app.post('/v1/nodes/register', async (req, reply) => {
  const b = req.body as { node_id?: unknown; control_url?: unknown; active_legs?: unknown } | undefined;
  if (!b || typeof b.node_id !== 'string' || typeof b.control_url !== 'string') return reply.code(400).send({ error: 'bad body' });
  registry.set(b.node_id, { url: b.control_url, legs: Number(b.active_legs ?? 0), lastSeen: Date.now() });
  return { node_id: b.node_id, ttl_sec: 45, heartbeat_sec: 10 };
});

app.listen({ port: 0, host: '127.0.0.1' }).then((url) => {
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  serveCommands({}, { url: url.replace('localhost', '127.0.0.1') });
}, failStartup);
