import request from 'supertest';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * CONTRACT §1: every path the signaling service serves, named as the contract names it
 * (`{node_id}`, `{call_id}`), with its success and error statuses — 429 too, which every
 * registry and calls path answers when rate limiting is on.
 */
const CONTRACT: Array<[method: string, path: string, ok: number, errors: number[]]> = [
  ['post', '/v1/nodes/register', 200, [400, 401, 409, 413, 429]],
  ['delete', '/v1/nodes/{node_id}', 204, [401, 404, 429]],
  ['get', '/v1/nodes', 200, [401, 429]],
  ['get', '/v1/nodes/{node_id}', 200, [401, 404, 429]],
  ['post', '/v1/nodes/{node_id}/drain', 200, [401, 404, 429]],
  ['post', '/v1/nodes/{node_id}/undrain', 200, [401, 404, 429]],
  ['post', '/v1/calls', 201, [400, 401, 422, 502, 503, 429]],
  ['get', '/v1/calls/{call_id}', 200, [401, 404, 429]],
  ['post', '/v1/calls/{call_id}/start', 200, [401, 404, 502, 429]],
  ['delete', '/v1/calls/{call_id}', 204, [401, 404, 502, 429]],
];

type Operation = { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>; requestBody?: unknown; security?: unknown[] };
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes?: Record<string, unknown> };
};

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: Doc;
  let byShape: Map<string, Record<string, Operation>>;
  beforeAll(async () => {
    t = await createTestApp();
    const res = await request(t.app.getHttpServer()).get('/docs-json').expect(200).expect('content-type', /json/);
    doc = res.body;
    byShape = new Map(Object.entries(doc.paths).map(([p, ops]) => [p.replace(/\{[^}]+\}/g, '{}'), ops]));
  });
  afterAll(() => t.close());

  it.each(CONTRACT)('documents %s %s with its success and every error as {"error"}', (method, path, ok, errors) => {
    const op = doc.paths[path]?.[method];
    expect(op).toBeDefined();
    expect(op!.responses[String(ok)]).toBeDefined();
    for (const status of errors) {
      const r = op!.responses[String(status)];
      expect({ status, ref: r?.content?.['application/json']?.schema?.$ref }).toEqual({ status, ref: '#/components/schemas/ErrorResponseDto' });
    }
  });

  it('describes the error shape and the request bodies from the DTOs', () => {
    const err = doc.components.schemas.ErrorResponseDto;
    expect(err.properties).toHaveProperty('error');
    expect(err.required).toEqual(['error']);
    const reg = doc.components.schemas.RegisterNodeDto;
    expect(Object.keys(reg.properties ?? {}).sort()).toEqual(
      ['active_legs', 'capacity', 'control_url', 'draining', 'media_ip', 'node_id', 'region', 'weight'],
    );
    expect(reg.required?.sort()).toEqual(['control_url', 'node_id']);
    const prep = doc.components.schemas.PrepareCallDto;
    expect(prep.required?.sort()).toEqual(['call_id', 'offer_sdp']);
    expect(Object.keys(doc.components.schemas.NodeInfoDto.properties ?? {})).toEqual(expect.arrayContaining(['bound_calls', 'last_seen', 'draining']));
    expect(Object.keys(doc.components.securitySchemes ?? {}).sort()).toEqual(['api', 'registry']);
    expect(byShape.get('/v1/calls')?.post.security).toEqual([{ api: [] }]);
    expect(byShape.get('/v1/nodes/register')?.post.security).toEqual([{ registry: [] }]);
  });

  it('lists the operations paths too, not the dashboard page', () => {
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/health/ready', '/metrics', '/v1/ops/summary']));
    expect(doc.paths['/']).toBeUndefined();
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await request(t.app.getHttpServer()).get('/docs').redirects(1).expect(200);
    expect(res.text).toMatch(/swagger-ui/i);
  });
});
