import { FakeMediaNode } from '../support/fake-media-node';
import { RawHttp, type RawResponse } from '../support/raw-http';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * One answer for one request, whatever serves it: Express or Fastify, the lean lane or the
 * full path (RTP_HTTP_LEAN true/false). Four apps get the same request shapes over real HTTP,
 * shapes where the adapters' own parsing and routing used to differ; status and body must be
 * the same on all four, and be the answer docs/security.md ("One answer on every adapter") names.
 */
const SIDES = [
  ['express', 'true'], ['express', 'false'], ['fastify', 'true'], ['fastify', 'false'],
] as const;

const JSON_TYPE = { 'content-type': 'application/json' };
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('adapter parity: one answer on both adapters and both lanes (e2e)', () => {
  let node: FakeMediaNode;
  let apps: { name: string; app: TestApp; http: RawHttp }[];

  beforeAll(async () => {
    node = await new FakeMediaNode('parity-n1').start();
    apps = await Promise.all(SIDES.map(async ([adapter, lean]) => {
      const app = await createTestApp({ adapter, env: { RTP_HTTP_LEAN: lean }, listen: true });
      return { name: `${adapter}, lean ${lean}`, app, http: new RawHttp(app.url, 2) };
    }));
    for (const { http } of apps) {
      const reg = await http.request('POST', '/v1/nodes/register', { headers: JSON_TYPE, body: JSON.stringify({ node_id: 'parity-n1', control_url: node.url }) });
      expect(reg.status).toBe(200);
    }
  });
  afterAll(async () => {
    for (const a of apps ?? []) a.http.close();
    await Promise.all((apps ?? []).map((a) => a.app.close()));
    await node?.stop();
  });

  /** Sends the request to every app; all answers must agree. Returns the common answer. */
  async function everywhere(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<{ status: number; body: unknown }> {
    const answers: RawResponse[] = await Promise.all(apps.map((a) => a.http.request(method, path, { headers, body })));
    const seen = answers.map((r, i) => ({ side: apps[i].name, status: r.status, body: r.json ?? r.text }));
    const first = { status: seen[0].status, body: seen[0].body };
    expect(seen).toEqual(apps.map((a) => ({ side: a.name, ...first })));
    return first;
  }
  /** A call on every app (the media port differs per leg, so only the statuses are compared). */
  const prepareEverywhere = async (callId: string) => {
    const body = JSON.stringify({ call_id: callId, offer_sdp: 'v=0' });
    const answers = await Promise.all(apps.map((a) => a.http.request('POST', '/v1/calls', { headers: JSON_TYPE, body })));
    expect(answers.map((r) => r.status)).toEqual(apps.map(() => 201));
  };

  it('a JSON body with a UTF-8 byte order mark is read without it (200)', async () => {
    const body = Buffer.concat([BOM, Buffer.from(JSON.stringify({ node_id: 'parity-n1', control_url: node.url }))]);
    expect(await everywhere('POST', '/v1/nodes/register', JSON_TYPE, body)).toMatchObject({ status: 200 });
    const call = Buffer.concat([BOM, Buffer.from(JSON.stringify({ call_id: 'bom-call', offer_sdp: 'v=0' }))]);
    const answers = await Promise.all(apps.map((a) => a.http.request('POST', '/v1/calls', { headers: JSON_TYPE, body: call })));
    expect(answers.map((r) => [r.status, (r.json as { call_id?: string }).call_id])).toEqual(apps.map(() => [201, 'bom-call']));
  });

  it('a percent-encoded unreserved character in a fixed path segment is the character itself (RFC 3986 §6.2.2.2)', async () => {
    const hb = JSON.stringify({ node_id: 'parity-n1', control_url: node.url });
    expect(await everywhere('POST', '/v1/nodes/%72egister', JSON_TYPE, hb)).toMatchObject({ status: 200 });
    expect(await everywhere('POST', '/v1/node%73/regist%65r', JSON_TYPE, hb)).toMatchObject({ status: 200 });
    await prepareEverywhere('esc-call');
    const bound = await Promise.all(apps.map((a) => a.http.request('GET', '/v1/%63alls/esc-%63all')));
    expect(bound.map((r) => [r.status, (r.json as { call_id?: string }).call_id])).toEqual(apps.map(() => [200, 'esc-call']));
  });

  it('a DELETE ignores a body of any type: the call is deleted (204), as without one', async () => {
    await prepareEverywhere('bye-text');
    await prepareEverywhere('bye-json');
    expect(await everywhere('DELETE', '/v1/calls/bye-text', { 'content-type': 'text/plain' }, 'bye')).toEqual({ status: 204, body: '' });
    expect(await everywhere('DELETE', '/v1/calls/bye-json', JSON_TYPE, '{"reason":"bye"}')).toEqual({ status: 204, body: '' });
    expect(await everywhere('GET', '/v1/calls/bye-text')).toEqual({ status: 404, body: { error: 'call not found' } });
  });

  it('a malformed percent-escape in the path is 400 with one text', async () => {
    for (const [method, path] of [['DELETE', '/v1/calls/%zz'], ['POST', '/v1/calls/%E0%A4%A/start'], ['GET', '/v1/calls/a%'], ['POST', '/v1/nodes/%7'], ['GET', '/v1/nodes/x%C0%AF']]) {
      expect(await everywhere(method, path)).toEqual({ status: 400, body: { error: 'malformed percent-encoding in path' } });
    }
  });
});
