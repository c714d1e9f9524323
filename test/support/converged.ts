import type { FakeMediaNode } from '../../src/testing/fake-media-node';
import type { PoolStore } from '../../src/pool/core/pool-store.interface';
import { waitUntil } from './concurrency';

/**
 * The CONTRACT §7 invariant for a set of call ids: a node holds a leg for a call id if and
 * only if the store binds that call id to that node. Returns what disagrees (empty when converged).
 */
export async function disagreements(store: PoolStore, nodes: Record<string, FakeMediaNode>, callIds: Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for (const callId of callIds) {
    const b = await store.getBinding(callId);
    for (const [nodeId, node] of Object.entries(nodes)) {
      const bound = b?.nodeId === nodeId;
      if (bound !== node.legs.has(callId)) out.push(`${callId}@${nodeId}: ${bound ? 'bound, no leg' : 'leg, no binding'}`);
    }
    if (b && !nodes[b.nodeId]) out.push(`${callId}: bound to unknown node ${b.nodeId}`);
  }
  return out;
}

/** Waits (at most `timeoutMs`) for the invariant; resolves to the ms it took, rejects naming what still disagrees. */
export async function expectConverged(
  store: PoolStore, nodes: Record<string, FakeMediaNode>, callIds: Iterable<string>, timeoutMs: number,
): Promise<number> {
  const ids = [...callIds];
  const ms = await waitUntil(async () => (await disagreements(store, nodes, ids).catch(() => ['store unavailable'])).length === 0, timeoutMs, 25);
  if (ms < 0) throw new Error(`not converged within ${timeoutMs} ms: ${(await disagreements(store, nodes, ids)).join('; ')}`);
  return ms;
}
