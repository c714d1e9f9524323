import type { Child } from './proc';

/** What every scenario gets from the runner. */
export interface BenchContext {
  /** Tiny sizes, few runs: keeps the scripts working (CI). */
  smoke: boolean;
  /** Runs per figure (≥ 5 in a full run). */
  runs: number;
  /** The fake media node process (bench/procs/farm.ts). */
  farm: Child;
  /** Progress line on stderr. */
  log(msg: string): void;
  /** Redis URL for the Redis-store scenarios. */
  redisUrl: string;
  /** Whether the Redis store can be used, and why not. */
  redisStore(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** A fresh random key prefix for one Redis-store instance group. */
  redisPrefix(): string;
}

/** One scenario's part of the report. */
export interface Section {
  /** Markdown, starting with its `###` heading. */
  markdown: string;
  /** A one-line summary for the top table. */
  summary: string[][];
  /** Set when the scenario could not run (its markdown says why). */
  skipped?: string;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<Section>;
}

export interface FarmNode {
  id: string;
  url: string;
}

export async function addFarmNodes(ctx: BenchContext, count: number, prefix: string): Promise<FarmNode[]> {
  const r = await ctx.farm.call<{ nodes: FarmNode[] }>('add', { count, prefix });
  return r.nodes;
}
