import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freeUdpPort } from '../../src/demo/sip-tools';
import { spawnBuilt } from '../support/dist';
import { eventually } from '../support/media-nodes';

/**
 * The SIP edge's move companion (dist/edge-companion/main.js) following `GET /v1/events`: the
 * stream is served here by plain HTTP servers that end it on purpose, to see how it comes back.
 */

interface EventsServer {
  url: string;
  /** Each GET /v1/events: its Last-Event-ID and Authorization headers. */
  requests: { lastEventId?: string; auth?: string }[];
  close(): Promise<void>;
}

/** Serves `GET /v1/events`: the records in `records` (one per connection, in turn), then ends the stream. */
async function eventsServer(records: string[]): Promise<EventsServer> {
  const requests: EventsServer['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/v1/events') {
      res.writeHead(404).end();
      return;
    }
    requests.push({ lastEventId: req.headers['last-event-id'] as string | undefined, auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(records[(requests.length - 1) % records.length]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('edge companion: following the event stream', () => {
  it('reconnects with Last-Event-ID after the stream ends, on the next pool URL, with the API token', async () => {
    const a = await eventsServer(['id: 7\nevent: node_up\ndata: {"node_id":"n1"}\n\n']);
    const b = await eventsServer(['id: 9\nevent: node_up\ndata: {"node_id":"n2"}\n\n']);
    const companion = spawnBuilt('edge-companion/main.js', {
      RTP_POOL_URL: `${a.url},${b.url}`, RTP_API_TOKEN: 'tok-123', RTP_EDGE_SIP: '127.0.0.1:9', RTP_EDGE_MOVER_PORT: String(await freeUdpPort()),
    });
    try {
      // a (no id yet) → b with 7 → a with 9.
      await eventually(() => a.requests.length >= 2, 15_000, 'a second connection to the first URL').catch((e: Error) => {
        throw new Error(`${e.message}\n${companion.out()}`);
      });
      expect(a.requests[0].lastEventId).toBeUndefined();
      expect(b.requests[0].lastEventId).toBe('7');
      expect(a.requests[1].lastEventId).toBe('9');
      expect([...a.requests, ...b.requests].every((r) => r.auth === 'Bearer tok-123')).toBe(true);
      expect(companion.out()).toContain('"events":"connected"');
    } finally {
      companion.child.kill('SIGKILL');
      await a.close();
      await b.close();
    }
  }, 30_000);
});
