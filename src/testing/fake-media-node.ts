import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake media node: a real HTTP server on 127.0.0.1, port 0, speaking CONTRACT §2
 * exactly as the Go media node does (prepare → 201, start → 200 {"status":"active"},
 * delete → 204, unknown leg → 404). Its mode decides how it misbehaves:
 * - `ok`: answers as above;
 * - `fail500`: 500 {"error":"boom"} on every leg path;
 * - `full`: 503 {"error":"node at capacity"} on prepare (as the reference media node does when full);
 * - `full400`: 400 {"error":"node at capacity"} on prepare (as the Go media node does when full);
 * - `refuse`: 400 {"error":"unusable sdp"} on prepare;
 * - `blackhole`: accepts the connection and never answers;
 * - `garbage`: 201 with a body that is not JSON;
 * - `wrongstatus`: a valid body with the wrong success status on every leg path (prepare 200,
 *   start 204, delete 202), holding no leg;
 * - `trickle`: the right status at once, then a JSON body one byte every 100 ms (at most
 *   {@link TRICKLE_MAX_BYTES} bytes, so a leaked connection still ends);
 * - `huge`: the right status with a 4 MiB JSON body on every leg path;
 * - `redirect`: 307 to {@link FakeMediaNode.redirectTo} on every leg path;
 * - `slow`: answers as `ok`, each answer {@link FakeMediaNode.slowMs} late;
 * - `reset`: a prepare makes the leg, then the connection is destroyed before the 201 goes
 *   out (the pool cannot know the leg exists); start and delete answer as `ok`;
 * - `down`: drops every connection without an answer (health probes included); {@link FakeMediaNode.stop}
 *   gives a refused connection instead.
 */
export type FakeNodeMode =
  | 'ok' | 'fail500' | 'full' | 'full400' | 'refuse' | 'blackhole' | 'garbage' | 'wrongstatus' | 'trickle' | 'huge'
  | 'redirect' | 'slow' | 'down' | 'reset';

/** Most bytes `trickle` sends (one per 100 ms: 60 s). */
export const TRICKLE_MAX_BYTES = 600;

/**
 * The media ports a fake node hands out (even, as RTP's are), wrapping around: a long run
 * (a soak, a bench of many thousands of legs) never gets a port the pool refuses (> 65535).
 */
export const FAKE_MEDIA_PORTS = { first: 40002, last: 65534 } as const;

export interface RecordedRequest {
  method: string;
  /** The raw path as received (percent-encoded). */
  rawPath: string;
  /** The decoded call id of a leg path, when there is one. */
  callId?: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export class FakeMediaNode {
  mode: FakeNodeMode = 'ok';
  /** Legs this node holds, by call id. */
  readonly legs = new Map<string, { offer: string; started: boolean; port: number }>();
  readonly requests: RecordedRequest[] = [];
  /** Delay before every answer (ms), to keep requests in flight. */
  delayMs = 0;
  /**
   * Extra delay of prepares only (`POST /v1/legs`), on top of {@link delayMs}: the leg is
   * made when the answer goes out, so a pool that gave up earlier gets a late 201.
   */
  prepareDelayMs = 0;
  /**
   * Extra delay of leg deletes only (`DELETE /v1/legs/{id}`), on top of {@link delayMs}: the
   * leg is removed when the answer goes out, so a prepare of the same call id that arrives
   * meanwhile makes a leg that this DELETE then removes (a node acting on a DELETE late).
   */
  deleteDelayMs = 0;
  /** How late `slow` mode answers (ms), on top of {@link delayMs}. */
  slowMs = 1000;
  /** Where `redirect` mode points (a base URL; the request path is appended). */
  redirectTo = 'http://169.254.169.254';
  /** Value reported by /v1/health. */
  activeLegsReport?: number;
  /**
   * Serves `GET /v1/legs` (200 `{"legs": [{"call_id"}…]}`), as the reference media node does,
   * so that reconciliation sees this node's legs. Off by default: the Go media node answers 404.
   */
  listsLegs = false;
  /** Extra fields of the /v1/health answer (e.g. `capacity`, `draining`). */
  healthExtra: Record<string, unknown> = {};
  private server!: http.Server;
  private readonly sockets = new Set<Socket>();
  /** Answers held back by a delay: dropped at stop (their connections are gone), so no timer outlives the node. */
  private readonly delayed = new Set<NodeJS.Timeout>();
  /** The last media port handed out: even ports cycled within {@link FAKE_MEDIA_PORTS}, as a node's RTP range is finite. */
  private nextPort = FAKE_MEDIA_PORTS.first - 2;
  port = 0;

  constructor(readonly nodeId = 'fake') {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests of one kind (`prepare`, `start`, `delete`, `health`). */
  count(kind: 'prepare' | 'start' | 'delete' | 'health'): number {
    return this.requests.filter((r) => kindOf(r) === kind).length;
  }

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Closes the server and every connection (the node is then `down`: connection refused). */
  async stop(): Promise<void> {
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Forgets the recorded requests and held legs, and goes back to `ok`. */
  reset(): void {
    this.requests.length = 0;
    this.legs.clear();
    this.mode = 'ok';
    this.delayMs = 0;
    this.prepareDelayMs = 0;
    this.deleteDelayMs = 0;
  }

  /** Starts again on the same port. */
  async restart(): Promise<this> {
    return this.start(this.port);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawPath = req.url ?? '/';
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const m = /^\/v1\/legs\/([^/]+)(\/start)?$/.exec(rawPath);
      const rec: RecordedRequest = { method: req.method ?? '', rawPath, headers: req.headers, body, callId: m ? decodeURIComponent(m[1]) : undefined };
      this.requests.push(rec);
      if (this.mode === 'down') return void req.socket.destroy();
      const delay = this.delayMs + (this.mode === 'slow' ? this.slowMs : 0) + (rec.method === 'POST' && rawPath === '/v1/legs' ? this.prepareDelayMs : 0)
        + (rec.method === 'DELETE' && m && !m[2] ? this.deleteDelayMs : 0);
      if (delay > 0) {
        const timer = setTimeout(() => {
          this.delayed.delete(timer);
          this.route(rec, res, m);
        }, delay);
        this.delayed.add(timer);
      } else this.route(rec, res, m);
    });
  }

  /** Headers now, then a JSON body one byte every 100 ms until done, the client leaves, or the node stops. */
  private trickle(res: http.ServerResponse, status: number): void {
    const body = Buffer.from(JSON.stringify({ media_ip: '127.0.0.1', media_port: 40000, codec: 'PCMU', pad: ' '.repeat(TRICKLE_MAX_BYTES) })).subarray(0, TRICKLE_MAX_BYTES);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length) });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent >= body.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(body.subarray(sent, ++sent));
    }, 100);
    res.on('close', () => clearInterval(timer));
  }

  private route(rec: RecordedRequest, res: http.ServerResponse, m: RegExpExecArray | null): void {
    const json = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (rec.method === 'GET' && rec.rawPath === '/v1/health') {
      if (this.mode === 'blackhole') return;
      return json(200, { status: 'ok', node_id: this.nodeId, active_legs: this.activeLegsReport ?? this.legs.size, media_ip: '127.0.0.1', ...this.healthExtra });
    }
    if (this.mode === 'blackhole') return; // accept, never answer
    if (this.mode === 'fail500') return json(500, { error: 'boom' });
    if (rec.method === 'GET' && rec.rawPath === '/v1/legs' && this.listsLegs) {
      return json(200, { legs: [...this.legs.keys()].map((call_id) => ({ call_id })) });
    }
    if (this.mode === 'trickle' && (rec.rawPath === '/v1/legs' || m)) return this.trickle(res, rec.rawPath === '/v1/legs' ? 201 : 200);
    if (this.mode === 'huge' && (rec.rawPath === '/v1/legs' || m)) {
      return json(rec.rawPath === '/v1/legs' ? 201 : 200, { media_ip: '127.0.0.1', media_port: 40000, codec: 'PCMU', pad: 'x'.repeat(4 << 20) });
    }
    if (this.mode === 'redirect' && (rec.rawPath === '/v1/legs' || m)) {
      res.writeHead(307, { location: this.redirectTo + rec.rawPath, 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'moved' }));
    }
    if (this.mode === 'wrongstatus' && (rec.rawPath === '/v1/legs' || m)) {
      if (rec.method === 'POST' && rec.rawPath === '/v1/legs') {
        const b = rec.body as { call_id?: string } | undefined;
        return json(200, { call_id: b?.call_id, node_id: this.nodeId, media_ip: '127.0.0.1', media_port: 40000, codec: 'PCMU' });
      }
      return json(rec.method === 'DELETE' ? 202 : 204, rec.method === 'DELETE' ? { status: 'deleted' } : undefined);
    }
    if (rec.method === 'POST' && rec.rawPath === '/v1/legs') {
      if (this.mode === 'full') return json(503, { error: 'node at capacity' });
      if (this.mode === 'full400') return json(400, { error: 'node at capacity' });
      if (this.mode === 'refuse') return json(400, { error: 'unusable sdp' });
      if (this.mode === 'garbage') {
        res.writeHead(201, { 'content-type': 'application/json' });
        return void res.end('{not json');
      }
      const b = rec.body as { call_id?: string; offer_sdp?: string };
      if (!b || typeof b.call_id !== 'string' || typeof b.offer_sdp !== 'string') return json(400, { error: 'bad body' });
      const port = (this.nextPort = this.nextPort + 2 > FAKE_MEDIA_PORTS.last ? FAKE_MEDIA_PORTS.first : this.nextPort + 2);
      this.legs.set(b.call_id, { offer: b.offer_sdp, started: false, port });
      if (this.mode === 'reset') return void res.socket?.destroy();
      // Shaped like the Go media node's answer.
      return json(201, { call_id: b.call_id, node_id: this.nodeId, media_ip: '127.0.0.1', media_port: port, codec: 'PCMU' });
    }
    if (m && rec.callId !== undefined) {
      const leg = this.legs.get(rec.callId);
      if (rec.method === 'POST' && m[2]) {
        if (!leg) return json(404, { error: 'leg not found' });
        leg.started = true;
        return json(200, { status: 'active' });
      }
      if (rec.method === 'DELETE' && !m[2]) {
        if (!leg) return json(404, { error: 'leg not found' });
        this.legs.delete(rec.callId);
        return json(204);
      }
    }
    json(404, { error: 'not found' });
  }
}

function kindOf(r: RecordedRequest): string {
  if (r.rawPath === '/v1/health') return 'health';
  if (r.rawPath === '/v1/legs') return 'prepare';
  if (r.rawPath.endsWith('/start')) return 'start';
  if (r.method === 'DELETE') return 'delete';
  return 'other';
}

/** Starts `n` fake nodes. */
export async function startFakeNodes(n: number, prefix = 'fake'): Promise<FakeMediaNode[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => new FakeMediaNode(`${prefix}-${i + 1}`).start()));
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
