import { internCodec, mediaIpOf } from '../../common/intern';
import type { PrepareLegResponse } from '../../contract/contract.types';
import { ControlCallError } from '../../node-client/control-call.error';
import { NodeFailedException, OfferRefusedException, PoolError, poolErrorOf } from '../core/pool.errors';
import type { ResolvedPoolOptions } from '../core/pool.module-definition';
import type { Binding, Candidate, NodeState } from '../core/pool.types';
import type { ClaimFailure } from '../core/pool-store.interface';

export { CallDeletedException, CallMovedException } from '../core/pool.errors';

/**
 * Longest a first prepare may take (every attempt its control timeout, plus a second of
 * store round trips): its claim lives that long, and a DELETE's tombstone outlives it.
 */
export function claimTtlMs(options: Pick<ResolvedPoolOptions, 'maxAttempts' | 'controlTimeoutMs'>): number {
  return options.maxAttempts * options.controlTimeoutMs + 1_000;
}

/** A new leg to place: which call, with which offer, since when (the prepare's or migrate's start), and what for (logs). */
export interface LegRequest {
  callId: string;
  offerSdp: string;
  /** `performance.now()` when the operation began: the failover policy's elapsed time runs from it. */
  started: number;
  /** What the walk is for, in its log lines (`prepare`, `migrate`). */
  what: string;
}

/** The ordered nodes to try; `panic`: every node was unhealthy, so circuits are not consulted. */
export interface CandidateList {
  candidates: readonly Candidate[];
  panic: boolean;
}

/** How a walk over the candidates ended: a node's answer, or why none answered. */
export type WalkResult =
  | { ok: true; node: Readonly<NodeState>; answer: PrepareLegResponse; attempt: number }
  | { ok: false; attempt: number; allRefused: boolean; reason: string };

/**
 * The exception of a walk that found no node: `noNodes` when no candidate was tried (503),
 * 422 when every node tried refused the offer, else 502 with the last cause.
 */
export function walkFailure(walk: Extract<WalkResult, { ok: false }>, noNodes: () => Error): Error {
  if (walk.attempt === 0) return noNodes();
  return walk.allRefused ? new OfferRefusedException(walk.reason) : new NodeFailedException(walk.reason);
}

/** What a binding keeps of a node's prepare answer, beyond what the caller decides. */
export interface BindingParts {
  callId: string;
  /** The node that answered, as the pool knows it (its id, URL, media address). */
  node: Pick<NodeState, 'nodeId' | 'controlUrl' | 'mediaIp'>;
  answer: PrepareLegResponse;
  /** Epoch ms now: the binding expires `callTtlSec` after it. */
  now: number;
  createdAt: number;
  /** Opaque id of this write (compare-and-delete, and start's compare). */
  version: string;
}

/**
 * The binding of a leg a node made: its node, the media address the node answered (its
 * registered media IP when the answer has none), `started: false` (a new leg is started by
 * its own start), expiring `callTtlSec` from now. Built here only, for a first prepare, a
 * re-INVITE and a migrate alike.
 */
export function bindingFromAnswer(p: BindingParts, options: Pick<ResolvedPoolOptions, 'callTtlSec'>): Binding {
  return {
    callId: p.callId, nodeId: p.node.nodeId, controlUrl: p.node.controlUrl,
    mediaIp: mediaIpOf(p.answer.media_ip, p.node.mediaIp), mediaPort: p.answer.media_port, codec: internCodec(p.answer.codec),
    started: false, createdAt: p.createdAt, expiresAt: p.now + options.callTtlSec * 1000, version: p.version,
  };
}

/** How long the failure of a first prepare stays readable for instances that waited on its claim. */
export const CLAIM_FAILURE_TTL_MS = 5_000;

/** A failed prepare as the holder records it for the instances that waited on its claim. */
export function claimFailureOf(e: unknown): ClaimFailure {
  if (e instanceof PoolError) return { code: e.code, message: e.message };
  return { code: 'RTP_NODE_FAILED', message: e instanceof Error ? e.message : String(e) };
}

/** The same error as the holder's: same code, same reason. */
export function exceptionOf(f: ClaimFailure): PoolError {
  return poolErrorOf(f.code, f.message);
}

export function asControlError(e: unknown): ControlCallError {
  if (e instanceof ControlCallError) return e;
  return new ControlCallError('protocol', e instanceof Error ? e.message : String(e));
}
