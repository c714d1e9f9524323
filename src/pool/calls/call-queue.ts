import { Injectable } from '@nestjs/common';

interface CallLane {
  /** The last operation queued on this call id (settled or not). */
  tail: Promise<unknown>;
  /** The prepare queued last, while nothing was queued after it: overlapping prepares share it. */
  prepare?: Promise<unknown>;
  /** Operations queued and not settled. */
  pending: number;
  /** Of those, prepares. */
  prepares: number;
  /** DELETEs seen on this instance: a prepare that started before one must not bind. */
  deletes: number;
}

/**
 * Orders the operations of one call id on this instance: each runs after the previous one
 * settled (prepare, then start, as pipelined on one connection). Overlapping prepares
 * share one attempt. A DELETE is not queued behind them — it overtakes (a CANCEL must win
 * over the prepare it cancels) — but it is counted, so a prepare in flight learns it was
 * overtaken, and what arrives after it waits for it.
 *
 * One per pool instance, shared by the router (which queues) and the placer (which reads
 * the DELETE counts).
 */
@Injectable()
export class CallQueue {
  private readonly lanes = new Map<string, CallLane>();
  private readonly all = new Set<Promise<unknown>>();

  /** Queues `op` after every earlier operation of the call id. */
  run<T>(callId: string, op: () => Promise<T>): Promise<T> {
    const lane = this.lane(callId);
    lane.prepare = undefined;
    return this.enqueue(callId, lane, op);
  }

  /** Queues a prepare, or returns the one queued last if nothing was queued after it. */
  prepare<T>(callId: string, op: () => Promise<T>): Promise<T> {
    const lane = this.lane(callId);
    if (lane.prepare) return lane.prepare as Promise<T>;
    lane.prepares++;
    const p = this.enqueue(callId, lane, op, { prepare: true });
    lane.prepare = p;
    return p;
  }

  /**
   * Runs a DELETE of the call id at once, ahead of the operations queued before it (a CANCEL
   * must win over the prepare it cancels), and counts it so a prepare in flight learns it
   * was overtaken. Operations that arrive after it wait for it: its DELETE to the node must
   * not reach the node after a later prepare's leg (legs are keyed by call id alone).
   * `op` is told whether a prepare of the call id was in flight here.
   */
  overtake<T>(callId: string, op: (overtookPrepare: boolean) => Promise<T>): Promise<T> {
    const lane = this.lane(callId);
    lane.deletes++;
    const overtook = lane.prepares > 0;
    lane.prepare = undefined;
    lane.pending++;
    const p = op(overtook);
    const earlier = lane.tail;
    const settled = this.track(callId, lane, p, { prepare: false });
    lane.tail = earlier.then(() => settled);
    return p;
  }

  /** The DELETE count of a call id (compare before and after an operation). */
  deletes(callId: string): number {
    return this.lanes.get(callId)?.deletes ?? 0;
  }

  /** True while an operation of the call id is queued or running here. */
  busy(callId: string): boolean {
    return (this.lanes.get(callId)?.pending ?? 0) > 0;
  }

  /** Operations queued or running. */
  get size(): number {
    return this.all.size;
  }

  /** Resolves when nothing is queued (true) or after `timeoutMs` (false). */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.all.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.all]),
        new Promise((r) => { timer = setTimeout(r, left); }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  private lane(callId: string): CallLane {
    let lane = this.lanes.get(callId);
    if (!lane) this.lanes.set(callId, (lane = { tail: Promise.resolve(), pending: 0, prepares: 0, deletes: 0 }));
    return lane;
  }

  private enqueue<T>(callId: string, lane: CallLane, op: () => Promise<T>, kind: { prepare: boolean } = { prepare: false }): Promise<T> {
    lane.pending++;
    const p = lane.tail.then(op, op);
    // The next operation of the call id starts after this one settled and was counted out.
    lane.tail = this.track(callId, lane, p, kind);
    return p;
  }

  /**
   * Counts `p` out of its lane once it settles (and the lane out of the map when it was the
   * last); resolves then, never rejects. One derived promise per operation.
   */
  private track(callId: string, lane: CallLane, p: Promise<unknown>, kind: { prepare: boolean }): Promise<void> {
    this.all.add(p);
    const done = () => {
      if (kind.prepare) {
        lane.prepares--;
        if (lane.prepare === p) lane.prepare = undefined;
      }
      this.all.delete(p);
      if (--lane.pending === 0 && this.lanes.get(callId) === lane) this.lanes.delete(callId);
    };
    return p.then(done, done);
  }
}
