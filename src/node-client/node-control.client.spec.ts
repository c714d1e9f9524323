import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedPort, FakeMediaNode } from '../../test/support/fake-media-node';
import { ControlCallError, mayHaveActed } from './control-call.error';
import { NodeControlClient } from './node-control.client';

/** Failure classification against real loopback servers (no mocked HTTP client). */
describe('NodeControlClient failure classification', () => {
  const client = new NodeControlClient({ timeoutMs: 300, nodeToken: 'node-secret' });
  let node: FakeMediaNode;
  let custom: http.Server;
  let customUrl = '';
  let handler: http.RequestListener = (_req, res) => res.end();

  beforeAll(async () => {
    node = await new FakeMediaNode('n').start();
    custom = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => custom.listen(0, '127.0.0.1', () => r()));
    customUrl = `http://127.0.0.1:${(custom.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await client.onApplicationShutdown();
    await node.stop();
    custom.closeAllConnections();
    await new Promise<void>((r) => custom.close(() => r()));
  });
  beforeEach(() => {
    node.mode = 'ok';
  });

  const kindOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(ControlCallError);
      return (e as ControlCallError).kind;
    }
  };
  const offer = { call_id: 'c1', offer_sdp: 'v=0' };

  it('accepts 201 from prepare and sends the node token', async () => {
    const a = await client.prepare(node.url, offer);
    expect(a).toMatchObject({ call_id: 'c1', media_ip: '127.0.0.1', codec: 'PCMU' });
    expect(node.requests.at(-1)?.headers.authorization).toBe('Bearer node-secret');
  });
  it('does not send the node token to /v1/health', async () => {
    await client.health(node.url);
    expect(node.requests.at(-1)?.headers.authorization).toBeUndefined();
  });
  it('connection refused → connect', async () => {
    expect(await kindOf(client.prepare(`http://127.0.0.1:${await closedPort()}`, offer))).toBe('connect');
  });
  const failure = async (p: Promise<unknown>): Promise<ControlCallError> => {
    try {
      await p;
    } catch (e) {
      if (e instanceof ControlCallError) return e;
      throw e;
    }
    throw new Error('the call succeeded');
  };
  it('a refused connection sent nothing: the node did not act on it', async () => {
    const e = await failure(client.prepare(`http://127.0.0.1:${await closedPort()}`, offer));
    expect([e.kind, e.requestSent, mayHaveActed(e)]).toEqual(['connect', false, false]);
  });
  it('a connection reset after the node read the request → connect, sent: the outcome is unknown', async () => {
    node.mode = 'reset';
    const e = await failure(client.prepare(node.url, offer));
    expect([e.kind, e.requestSent, mayHaveActed(e)]).toEqual(['connect', true, true]);
    expect(node.legs.has('c1')).toBe(true); // it did act
    handler = (req) => req.socket.destroy(); // closed without reading the body: still unknown to the pool
    const d = await failure(client.delete(customUrl, 'c1'));
    expect([d.kind, d.requestSent]).toEqual(['connect', true]);
  });
  it('no answer → timeout, bounded by the control timeout', async () => {
    node.mode = 'blackhole';
    const t0 = Date.now();
    expect(await kindOf(client.prepare(node.url, offer))).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
  it('5xx → server, 4xx → client with the node\'s reason', async () => {
    node.mode = 'fail500';
    expect(await kindOf(client.prepare(node.url, offer))).toBe('server');
    node.mode = 'full400';
    await expect(client.prepare(node.url, offer)).rejects.toMatchObject({ kind: 'client', status: 400, message: 'node at capacity' });
  });
  it('200 to a prepare → status (only 201 is accepted, as in the Go pool)', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"media_port":1,"codec":"PCMU"}'); };
    expect(await kindOf(client.prepare(customUrl, offer))).toBe('status');
  });
  it('201 with garbage → protocol', async () => {
    node.mode = 'garbage';
    expect(await kindOf(client.prepare(node.url, offer))).toBe('protocol');
  });
  it('start accepts only 200; 204 is a status error', async () => {
    handler = (_req, res) => { res.writeHead(204); res.end(); };
    expect(await kindOf(client.start(customUrl, 'c1'))).toBe('status');
    handler = (_req, res) => { res.writeHead(200); res.end('{"status":"active"}'); };
    expect(await kindOf(client.start(customUrl, 'c1'))).toBe('ok');
  });
  it('delete accepts 204 and 200, and 404 as already gone', async () => {
    for (const [status, expected] of [[204, true], [200, true], [404, false]] as const) {
      handler = (_req, res) => { res.writeHead(status); res.end(); };
      await expect(client.delete(customUrl, 'c1')).resolves.toBe(expected);
    }
    handler = (_req, res) => { res.writeHead(503); res.end('{"error":"draining"}'); };
    await expect(client.delete(customUrl, 'c1')).rejects.toMatchObject({ kind: 'server', message: 'draining' });
  });
  it('connection dropped without an answer → connect', async () => {
    handler = (req) => { req.socket.destroy(); };
    expect(await kindOf(client.prepare(customUrl, offer))).toBe('connect');
  });
  it('an answer over 1 MiB → protocol', async () => {
    handler = (_req, res) => { res.writeHead(201, { 'content-type': 'application/json' }); res.end(`{"pad":"${'x'.repeat(1_100_000)}"}`); };
    expect(await kindOf(client.prepare(customUrl, offer))).toBe('protocol');
  });
  it('a body trickled past the timeout → timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      const t = setInterval(() => { if (!res.writableEnded && !res.destroyed) res.write(' '); else clearInterval(t); }, 50);
      res.on('close', () => clearInterval(t));
    };
    const t0 = Date.now();
    expect(await kindOf(client.prepare(customUrl, offer))).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
