/** One Server-Sent Event as the demo's signaling side reads it. */
export interface DemoEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/**
 * The signaling side's subscription to `GET /v1/events`: reads the stream with fetch and
 * calls `onEvent` for every record (comments skipped). `close()` ends it.
 */
export async function subscribeEvents(url: string, onEvent: (e: DemoEvent) => void, token?: string): Promise<{ close(): void }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /v1/events answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: Partial<DemoEvent> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
          }
          if (e.event && e.data) onEvent(e as DemoEvent);
        }
      }
    } catch {
      // closed
    }
  })();
  return { close: () => abort.abort() };
}
