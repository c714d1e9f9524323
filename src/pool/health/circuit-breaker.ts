import type { PoolHooks } from '../core/pool.hooks';

/** A node's circuit on this instance: `open` skips it, `half_open` lets one trial call through. */
export type CircuitState = 'closed' | 'open' | 'half_open';

interface Circuit {
  state: 'open' | 'half_open';
  /** Epoch ms the circuit opened (`open`) or the trial call started (`half_open`). */
  since: number;
  /**
   * Opened by a control call that timed out: the node may answer its probes and still
   * hang on legs, so only a control call's success closes it (a probe does not).
   */
  sticky: boolean;
}

/**
 * Passive failure detection, per node and per pool instance (deliberately not in the
 * store: it reacts to what *this* instance saw, at once, with no store round trip).
 *
 * - A control call that fails in a way that counts against the node (connect error,
 *   timeout, 5xx) opens the node's circuit at once: the node is no candidate for new calls.
 * - After `resetMs` the next selection may take it again: exactly one trial call is let
 *   through (`half_open`); its success closes the circuit, its failure opens it again.
 * - Any successful control call (or an answer that does not count against the node, such
 *   as a 4xx) closes it; so does a successful probe, except for a circuit opened by a
 *   control-call timeout (a node whose legs hang while its health answers stays out until
 *   a call — the half-open trial — succeeds).
 *
 * Bound calls (start, delete, re-INVITE) always go to their node whatever its circuit:
 * their outcome still feeds the breaker.
 *
 * Emits `circuit` on every transition, and `health` when a node's circuit opens
 * (healthy: false) or closes again (healthy: true).
 */
export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();

  /**
   * @param resetMs how long an open circuit stays open before one trial call.
   * @param hooks where transitions are reported.
   * @param now clock in epoch ms (tests pass their own).
   */
  constructor(
    readonly resetMs: number,
    private readonly hooks?: PoolHooks,
    private readonly now: () => number = Date.now,
  ) {}

  /** The node's circuit as it stands (an `open` circuit stays `open` until its trial starts). */
  state(nodeId: string): CircuitState {
    return this.circuits.get(nodeId)?.state ?? 'closed';
  }

  /** Ids of the nodes whose circuit is not closed. */
  openNodes(): string[] {
    return [...this.circuits.keys()];
  }

  /**
   * Whether a new call may be planned for the node: closed, or open for `resetMs` with no
   * trial running. Does not change state (a candidate list may be built and never used).
   */
  isCallable(nodeId: string): boolean {
    if (this.circuits.size === 0) return true;
    const c = this.circuits.get(nodeId);
    return !c || this.trialDue(c);
  }

  /**
   * Right before a new call is sent to the node: true to send it. A closed circuit always
   * passes; an open one whose reset time is over passes exactly once, as the trial
   * (the circuit goes half-open); everything else is refused.
   */
  tryPass(nodeId: string): boolean {
    const c = this.circuits.get(nodeId);
    if (!c) return true;
    if (!this.trialDue(c)) return false;
    this.circuits.set(nodeId, { state: 'half_open', since: this.now(), sticky: c.sticky });
    this.hooks?.emit('circuit', { nodeId, state: 'half_open' });
    return true;
  }

  /** The node answered (a probe or a control call): close its circuit. */
  recordSuccess(nodeId: string): void {
    if (!this.circuits.delete(nodeId)) return;
    this.hooks?.emit('circuit', { nodeId, state: 'closed' });
    this.hooks?.emit('health', { nodeId, healthy: true, reason: 'circuit closed' });
  }

  /** A probe succeeded: closes the circuit unless a control-call timeout opened it (see {@link Circuit.sticky}). */
  recordProbeSuccess(nodeId: string): void {
    if (this.circuits.get(nodeId)?.sticky) return;
    this.recordSuccess(nodeId);
  }

  /**
   * A call to the node failed in a way that counts against it: open (or re-open) its circuit.
   * @param sticky the failure was a control-call timeout: probes alone will not close it.
   */
  recordFailure(nodeId: string, reason: string, sticky = false): void {
    const prev = this.circuits.get(nodeId);
    this.circuits.set(nodeId, { state: 'open', since: this.now(), sticky: sticky || (prev?.sticky ?? false) });
    if (prev?.state === 'open') return; // already open: only the reset clock restarts
    this.hooks?.emit('circuit', { nodeId, state: 'open' });
    if (!prev) this.hooks?.emit('health', { nodeId, healthy: false, reason: `circuit open: ${reason}` });
  }

  /** Drops what is known about a node (it left the pool). */
  forget(nodeId: string): void {
    this.circuits.delete(nodeId);
  }

  private trialDue(c: Circuit): boolean {
    // A half-open trial that never reported back (it cannot, normally: every call is
    // bounded by the control timeout) must not keep the node out for ever.
    return this.now() - c.since >= this.resetMs;
  }
}
