import type { BenchContext, Scenario, Section } from '../lib/context';
import { Child } from '../lib/proc';
import { fmtBytes, fmtNum, fmtRatio, fmtSpread, spread, table } from '../lib/stats';

/** 7. Heap bytes per live binding in the memory store. */
export const s7: Scenario = {
  id: '7',
  title: 'Memory: heap bytes per live binding (memory store)',
  async run(ctx: BenchContext): Promise<Section> {
    const sizes = ctx.smoke ? [10_000, 50_000] : [100_000, 1_000_000];
    const child = Child.start('memory', { name: 's7-memory', nodeArgs: ['--expose-gc', '--max-old-space-size=8192'] });
    await child.ready;
    const res = new Map<string, number[]>();
    try {
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s7: run ${r + 1}/${ctx.runs}`);
        for (const size of sizes) {
          for (const kind of ['map', 'store']) {
            const x = await child.call<{ perEntry: number }>('measure', { size, kind });
            const k = `${kind}-${size}`;
            res.set(k, [...(res.get(k) ?? []), x.perEntry]);
          }
        }
      }
    } finally {
      await child.stop();
    }
    const rows = sizes.flatMap((size) => {
      const map = spread(res.get(`map-${size}`)!);
      const store = spread(res.get(`store-${size}`)!);
      return [
        [fmtNum(size), 'baseline: `Map<callId, nodeId>` (the least a router must keep)', fmtSpread(map, fmtBytes), fmtBytes(map.median * size), '1.00×'],
        [fmtNum(size), '`MemoryPoolStore` bindings', fmtSpread(store, fmtBytes), fmtBytes(store.median * size), fmtRatio(store.median / map.median)],
      ];
    });
    const big = sizes[sizes.length - 1];
    const per = spread(res.get(`store-${big}`)!).median;
    const md = [
      `### 7. ${this.title}`,
      '',
      `Bindings written through \`MemoryPoolStore.putBinding\` as \`PoolService\` writes them (20 nodes; SIP-looking call ids of `
      + `~29 characters; media IP and codec parsed from a node answer), in a process started with \`--expose-gc\`; heap used `
      + `after two full GCs, minus the heap before. The baseline is the least a router can keep: a \`Map\` from the same call ids to a node id.`,
      '',
      table(['live bindings', 'structure', 'bytes per binding', 'total', '÷ baseline'], rows),
    ].join('\n');
    return {
      markdown: md,
      summary: [['7', `heap per binding at ${fmtNum(big)} bindings`, fmtBytes(per), `Map<callId, nodeId> ${fmtBytes(spread(res.get(`map-${big}`)!).median)} → ${fmtRatio(per / spread(res.get(`map-${big}`)!).median)}`]],
    };
  },
};
