import { FAKE_MEDIA_PORTS, FakeMediaNode } from './fake-media-node';

describe('FakeMediaNode media ports', () => {
  let node: FakeMediaNode;
  beforeAll(async () => {
    node = await new FakeMediaNode('ports').start();
  });
  afterAll(() => node.stop());

  it('wraps within its even range after every port was handed out once: never above 65535', async () => {
    const span = (FAKE_MEDIA_PORTS.last - FAKE_MEDIA_PORTS.first) / 2 + 1;
    const total = span + 50;
    const ports: number[] = new Array(total);
    let next = 0;
    // Legs made over real HTTP, 32 at a time.
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const res = await fetch(`${node.url}/v1/legs`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ call_id: `c${i}`, offer_sdp: 'v=0' }),
        });
        ports[i] = ((await res.json()) as { media_port: number }).media_port;
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(Math.max(...ports)).toBe(FAKE_MEDIA_PORTS.last);
    expect(Math.min(...ports)).toBe(FAKE_MEDIA_PORTS.first);
    expect(ports.every((p) => p % 2 === 0 && p >= FAKE_MEDIA_PORTS.first && p <= 65534)).toBe(true);
    // Every port of the range was handed out once before the first came back.
    expect(new Set(ports).size).toBe(span);
  }, 60_000);
});
