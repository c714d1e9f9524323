import * as http from 'node:http';

/** One Server-Sent Events record as a client reads it. */
export interface SseRecord {
  event?: string;
  id?: string;
  data?: unknown;
}

/**
 * A real HTTP client reading `GET /v1/events` (or any SSE path): parses the stream into
 * records (comments counted apart), and lets a test wait for what it expects.
 */
export class SseClient {
  readonly records: SseRecord[] = [];
  comments = 0;
  status = 0;
  /** Everything received, as text. */
  text = '';
  private ended?: Promise<void>;
  headers: http.IncomingHttpHeaders = {};
  private req?: http.ClientRequest;
  private waiters: Array<() => void> = [];

  /** Opens the stream; resolves once the answer's head arrived (any status). */
  static open(baseUrl: string, opts: { token?: string; lastEventId?: string; path?: string } = {}): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
      if (opts.lastEventId) headers['Last-Event-ID'] = opts.lastEventId;
      c.req = http.get(`${baseUrl}${opts.path ?? '/v1/events'}`, { headers }, (res) => {
        c.status = res.statusCode ?? 0;
        c.headers = res.headers;
        res.setEncoding('utf8');
        let buf = '';
        c.ended = new Promise((r) => res.on('end', r));
        res.on('data', (chunk: string) => {
          c.text += chunk;
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            c.parse(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        });
        res.on('error', () => undefined);
        resolve(c);
      });
      c.req.on('error', reject);
    });
  }

  /** The body of a non-200 answer (reads to its end). */
  async body(): Promise<string> {
    await this.ended;
    return this.text;
  }

  /** Records of one event name. */
  of(event: string): SseRecord[] {
    return this.records.filter((r) => r.event === event);
  }

  /** Waits until `pred` holds over the records (or rejects after `timeoutMs`). */
  async until(pred: (c: SseClient) => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`SSE: condition not met in ${timeoutMs} ms; records: ${JSON.stringify(this.records)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  close(): void {
    this.req?.destroy();
  }

  private parse(block: string): void {
    const r: SseRecord = {};
    let isRecord = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const k = line.indexOf(':');
      const field = k < 0 ? line : line.slice(0, k);
      const value = k < 0 ? '' : line.slice(k + 1).replace(/^ /, '');
      isRecord = true;
      if (field === 'event') r.event = value;
      else if (field === 'id') r.id = value;
      else if (field === 'data') r.data = JSON.parse(value);
    }
    if (isRecord) this.records.push(r);
    for (const w of this.waiters.splice(0)) w();
  }
}
