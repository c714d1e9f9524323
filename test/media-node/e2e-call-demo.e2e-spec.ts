import { runDemo } from '../../src/demo/demo';

describe('npm run demo (runDemo, in-process)', () => {
  it('places calls through two registering media nodes and counts RTP both ways', async () => {
    const lines: string[] = [];
    const result = await runDemo({ calls: 2, durationMs: 300, log: (l) => lines.push(l) });
    const out = lines.join('\n');
    if (!result.ok || result.nodes.length !== 2) throw new Error(`demo output:\n${out}`);
    expect(result.calls).toHaveLength(2);
    // Placed at once, the two calls go to different nodes (the second sees the first's pending leg).
    expect(result.nodes.sort()).toEqual(['demo-a', 'demo-b']);
    for (const c of result.calls) {
      expect(c.fromNode).toBeGreaterThan(0);
      expect(c.echoed).toBeGreaterThan(0);
      expect(c.afterDelete).toBe(0);
    }
    expect(result.calls.map((c) => c.codec)).toEqual(['PCMU', 'PCMA']);
    expect(out).toMatch(/GET \/v1\/nodes → \[\]/);
    expect(out).toMatch(/done: 2 call\(s\) over 2 node\(s\)/);
  });

  it('stops cleanly when aborted (Ctrl-C)', async () => {
    const abort = new AbortController();
    const lines: string[] = [];
    let abortedAt = 0;
    const result = await runDemo({ calls: 1, durationMs: 10_000, log: (l) => {
      lines.push(l);
      if (l.includes('placing')) {
        setTimeout(() => {
          abortedAt = Date.now();
          abort.abort();
        }, 100);
      }
    }, signal: abort.signal });
    expect(result.ok).toBe(false);
    expect(lines.join('\n')).toMatch(/interrupted/);
    // It did not sit out the 10 s of RTP: the abort cut it short.
    expect(Date.now() - abortedAt).toBeLessThan(8000);
  });
});
