import * as http from 'node:http';

/** One answer of {@link RawHttp}. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Options of one {@link RawHttp.request}. */
export interface RawRequestOptions {
  body?: string | Uint8Array;
  headers?: http.OutgoingHttpHeaders;
  /** Abort after this many ms. @default 10000 */
  timeoutMs?: number;
}

/**
 * A minimal client over one keep-alive agent for tests that send thousands of requests
 * (fuzzing, floods): the path goes on the wire exactly as given (callers percent-encode),
 * bodies may be any bytes, and no header is added but Host and Content-Length.
 */
export class RawHttp {
  readonly agent: http.Agent;
  private readonly url: URL;

  constructor(baseUrl: string, maxSockets = 16) {
    this.url = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(method: string, path: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    const headers: http.OutgoingHttpHeaders = { ...opts.headers };
    if (body !== undefined) headers['content-length'] = body.length;
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: this.url.hostname, port: this.url.port, method, path, headers, agent: this.agent,
        timeout: opts.timeoutMs ?? 10_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** JSON body helper: sets Content-Type and serializes. */
  json(method: string, path: string, value: unknown, headers: http.OutgoingHttpHeaders = {}): Promise<RawResponse> {
    return this.request(method, path, { body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
