import type { Candidate } from '../../src/pool/core/pool.types';

/** A candidate node for strategy unit tests: `load` legs reported, nothing pending. */
export function candidate(id: string, load: number, extra: Partial<Candidate> = {}): Candidate {
  return {
    nodeId: id, controlUrl: `http://${id}`, mediaIp: '127.0.0.1', activeLegs: load, capacity: null, weight: 1, region: null,
    reportedDraining: false, static: false, lastSeen: 0, healthy: true, adminDrained: false, drainDeadline: null, pendingLegs: 0,
    boundCalls: 0, seq: 0, load, ...extra,
  };
}
