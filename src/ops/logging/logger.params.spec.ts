import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { pinoLoggerParams, requestId, requestLogLevel } from './logger.params';

function pair(url: string, headers: Record<string, string> = {}): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(new Socket());
  req.url = url;
  req.headers = headers;
  return [req, new ServerResponse(req)];
}

describe('logging parameters', () => {
  it('keeps a well-formed X-Request-Id, replaces anything else with a UUID, and echoes it', () => {
    const [req, res] = pair('/v1/calls', { 'x-request-id': 'edge-42.abc' });
    expect(requestId(req, res)).toBe('edge-42.abc');
    expect(res.getHeader('X-Request-Id')).toBe('edge-42.abc');
    for (const bad of ['has space', 'x'.repeat(129), '<script>', '']) {
      const [r2, s2] = pair('/', { 'x-request-id': bad });
      expect(requestId(r2, s2)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('logs 5xx as error, 4xx as warn, probes, scrapes and heartbeats as debug, the rest as info', () => {
    const level = (url: string, status: number) => {
      const [req, res] = pair(url);
      res.statusCode = status;
      return requestLogLevel(req, res);
    };
    expect(level('/v1/calls', 502)).toBe('error');
    expect(level('/health/ready', 503)).toBe('error');
    expect(level('/v1/calls', 404)).toBe('warn');
    expect(level('/health', 200)).toBe('debug');
    expect(level('/metrics', 200)).toBe('debug');
    expect(level('/v1/ops/summary', 200)).toBe('debug');
    expect(level('/v1/nodes/register', 200)).toBe('debug');
    expect(level('/v1/nodes/register', 400)).toBe('warn');
    expect(level('/v1/nodes/register', 503)).toBe('error');
    expect(level('/v1/nodes/n1', 204)).toBe('info');
    expect(level('/v1/calls', 201)).toBe('info');
    expect(level('/healthz', 200)).toBe('info');
  });

  it('redacts credentials and pretty-prints only on request', () => {
    const json = pinoLoggerParams({ level: 'debug' });
    expect(Array.isArray(json.pinoHttp)).toBe(false);
    expect(json.pinoHttp).toMatchObject({ level: 'debug', redact: { paths: expect.arrayContaining(['req.headers.authorization']) } });
    const pretty = pinoLoggerParams({ pretty: true });
    expect(Array.isArray(pretty.pinoHttp)).toBe(true);
  });
});
