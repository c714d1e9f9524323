import * as http from 'node:http';

export interface RawResponse {
  status: number;
  body: string;
}

/** One HTTP request with node:http (keep-alive through `agent`); the body is sent as JSON. */
export function rawRequest(agent: http.Agent, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const h: Record<string, string | number> = { ...headers };
    if (data !== undefined) {
      h['content-type'] = 'application/json';
      h['content-length'] = Buffer.byteLength(data);
    }
    const req = http.request(url, { method, agent, headers: h }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** A keep-alive agent for one sequential caller or a bounded pool. */
export function keepAliveAgent(maxSockets = 1): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets });
}

/** A request timed in microseconds. */
export async function timed(agent: http.Agent, method: string, url: string, body?: unknown): Promise<{ us: number; status: number; body: string }> {
  const t0 = process.hrtime.bigint();
  const r = await rawRequest(agent, method, url, body);
  return { us: Number(process.hrtime.bigint() - t0) / 1_000, status: r.status, body: r.body };
}

/** A realistic offer (PCMU/PCMA/telephone-event, as a SIP phone sends it). */
export const OFFER_SDP = [
  'v=0', 'o=- 4711 4711 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
].join('\r\n');

let seq = 0;
/** A unique, SIP-looking Call-ID. */
export function callId(tag: string): string {
  return `${tag}-${(++seq).toString(36)}-${Math.random().toString(36).slice(2, 10)}@bench.example`;
}
