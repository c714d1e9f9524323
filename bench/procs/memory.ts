/**
 * Scenario 7: heap bytes per live binding in the memory store (run with --expose-gc).
 * Bindings are built the way PoolService builds them: the node id and control URL are
 * the node's own strings, media IP and codec come from a parsed node answer, the call id
 * is a fresh SIP-looking string, the version a fresh token (a first prepare's claim token).
 */
import { randomToken } from '../../src/common/token';
import type { Binding } from '../../src/pool/core/pool.types';
import { MemoryPoolStore } from '../../src/pool/store/memory-pool.store';
import { failStartup, serveCommands } from '../lib/proc';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function sipCallId(i: number): string {
  return `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}${Math.random().toString(16).slice(2, 10)}@10.1.2.3`;
}

const NODES = Array.from({ length: 20 }, (_, i) => ({ id: `rtp-node-${i + 1}`, url: `http://10.0.0.${i + 1}:8090` }));

async function fillStore(size: number): Promise<MemoryPoolStore> {
  const store = new MemoryPoolStore();
  const t = Date.now();
  for (const n of NODES) {
    await store.upsertNode({ nodeId: n.id, controlUrl: n.url, mediaIp: '10.0.0.1', activeLegs: 0, capacity: null, weight: 1, region: null, reportedDraining: false, static: false, lastSeen: t });
  }
  for (let i = 0; i < size; i++) {
    const node = NODES[i % NODES.length];
    const callId = sipCallId(i);
    const answer = JSON.parse(`{"call_id":"${callId}","node_id":"${node.id}","media_ip":"10.0.0.${(i % 20) + 1}","media_port":${20000 + ((i * 2) % 40000)},"codec":"PCMU"}`);
    const b: Binding = {
      callId, nodeId: node.id, controlUrl: node.url, mediaIp: answer.media_ip, mediaPort: answer.media_port, codec: answer.codec,
      started: i % 2 === 0, createdAt: t, expiresAt: t + 86_400_000, version: randomToken(),
    };
    await store.putBinding(b, true);
  }
  return store;
}

function fillMap(size: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < size; i++) m.set(sipCallId(i), NODES[i % NODES.length].id);
  return m;
}

try {
  if (!gc) throw new Error('run with --expose-gc');
  serveCommands({
    async measure(m) {
      const size = Number(m.size);
      const before = heap();
      const holder: unknown[] = [];
      holder.push(m.kind === 'map' ? fillMap(size) : await fillStore(size));
      const after = heap();
      const perEntry = (after - before) / size;
      holder.length = 0;
      heap();
      return { perEntry, totalBytes: after - before };
    },
  });
} catch (e) {
  failStartup(e);
}
