import { join } from 'node:path';
import { runDemo } from '../../src/demo/demo';
import { builtEntry } from '../support/dist';

/**
 * A real reference media node (dist/media-node/main.js, a child process) is SIGKILLed in
 * the middle of its calls: node_down arrives on GET /v1/events, the calls are listed by
 * node and migrated, and RTP arrives from the new node (the demo's second scene).
 */
describe('kill a media-node process mid-call (demo scene 2)', () => {
  it('moves every call of the killed node; RTP flows again from the survivor', async () => {
    const lines: string[] = [];
    const result = await runDemo({ calls: 2, durationMs: 200, log: (l) => lines.push(l), mediaNodeEntry: builtEntry(join('media-node', 'main.js')) });
    const out = lines.join('\n');
    if (!result.ok || !result.moved?.length) throw new Error(`demo output:\n${out}`);
    expect(out).toMatch(/event: node_down \{"node_id":"demo-[cd]","reason":"(probe|circuit)","bound_calls":\d+\}/);
    for (const m of result.moved) {
      expect(m.from).not.toBe(m.to);
      expect(m.before).toBeGreaterThan(0);
      expect(m.after).toBeGreaterThan(0);
      expect(m.gapMs).toBeGreaterThanOrEqual(0);
      expect(m.gapMs).toBeLessThan(5_000);
    }
    process.stdout.write(`failover gaps (ms): ${result.moved.map((m) => m.gapMs).join(', ')}\n`);
  }, 60_000);
});
