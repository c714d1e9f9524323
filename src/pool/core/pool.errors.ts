import { PoolError, type PoolErrorCode } from '../../contract/pool-error';
import { InvalidIdException } from '../../contract/call-id';

export { PoolError, POOL_ERROR_CODES, isPoolErrorCode, type PoolErrorCode } from '../../contract/pool-error';
// A bad call or node id is the contract's rule, so it lives beside it.
export { InvalidIdException } from '../../contract/call-id';
export { InvalidCursorException } from '../../contract/cursor';

/** RTP_NO_HEALTHY_NODES: no node can take a new call. */
export class NoHealthyNodeException extends PoolError {
  constructor() { super('RTP_NO_HEALTHY_NODES', 'no healthy rtp nodes'); }
}
/** RTP_OFFER_REFUSED: every node tried refused the offer with a 4xx; carries the last node's reason. */
export class OfferRefusedException extends PoolError {
  constructor(message = 'every rtp node refused the offer') { super('RTP_OFFER_REFUSED', message); }
}
/** RTP_NODE_FAILED: a node failed otherwise (connect error, timeout, 5xx, wrong status, bad answer). */
export class NodeFailedException extends PoolError {
  constructor(message = 'rtp node failed') { super('RTP_NODE_FAILED', message); }
}
/** RTP_CALL_NOT_FOUND: no binding for the call id. */
export class CallNotFoundException extends PoolError {
  constructor() { super('RTP_CALL_NOT_FOUND', 'call not found'); }
}
/** RTP_NODE_NOT_FOUND: unknown (or static, for deregistration) node. */
export class NodeNotFoundException extends PoolError {
  constructor() { super('RTP_NODE_NOT_FOUND', 'node not found'); }
}
/** RTP_STATIC_NODE: the id belongs to a static seed node. */
export class StaticNodeConflictException extends PoolError {
  constructor(id: string) { super('RTP_STATIC_NODE', `node_id "${id}" belongs to a static seed node`); }
}
/** RTP_REGISTRY_FULL: the registry holds its maximum of dynamic nodes. */
export class RegistryFullException extends PoolError {
  constructor() { super('RTP_REGISTRY_FULL', 'node registry is full'); }
}
/** RTP_STORE_UNAVAILABLE: the shared store (Redis) cannot serve the request right now; nothing was decided. */
export class StoreUnavailableException extends PoolError {
  constructor(options?: { cause?: unknown }) { super('RTP_STORE_UNAVAILABLE', 'store unavailable', options); }
}
/** RTP_MIGRATION_CONFLICT: a migration of this call is already running (on another instance). */
export class MigrationConflictException extends PoolError {
  constructor(message = 'a migration of this call, or a cleanup of a leftover leg of it, is already running; retry') {
    super('RTP_MIGRATION_CONFLICT', message);
  }
}
/** RTP_NO_OTHER_NODE: no node other than the call's own can take it. */
export class NoOtherNodeException extends PoolError {
  constructor() { super('RTP_NO_OTHER_NODE', 'no other eligible rtp node'); }
}
/** RTP_CALL_DELETED: a DELETE overtook the prepare or re-INVITE (CONTRACT §7); its leg is deleted. */
export class CallDeletedException extends PoolError {
  constructor() { super('RTP_CALL_DELETED', 'call was deleted while it was being prepared'); }
}
/** RTP_CALL_MOVED: a migration moved the call while a re-INVITE was in flight on its old node (CONTRACT §5); that leg is deleted. */
export class CallMovedException extends PoolError {
  constructor() { super('RTP_CALL_MOVED', 'call was migrated to another node while this re-INVITE was in flight; send it again'); }
}

/** The error of `code` with this message, as the subclass that names it (a failure read back from the store). */
export function poolErrorOf(code: PoolErrorCode, message: string): PoolError {
  switch (code) {
    case 'RTP_OFFER_REFUSED': return new OfferRefusedException(message);
    case 'RTP_NODE_FAILED': return new NodeFailedException(message);
    case 'RTP_MIGRATION_CONFLICT': return new MigrationConflictException(message);
    case 'RTP_INVALID_ID': return new InvalidIdException(message);
    case 'RTP_NO_HEALTHY_NODES': return new NoHealthyNodeException();
    case 'RTP_CALL_NOT_FOUND': return new CallNotFoundException();
    case 'RTP_NODE_NOT_FOUND': return new NodeNotFoundException();
    case 'RTP_REGISTRY_FULL': return new RegistryFullException();
    case 'RTP_STORE_UNAVAILABLE': return new StoreUnavailableException();
    case 'RTP_NO_OTHER_NODE': return new NoOtherNodeException();
    case 'RTP_CALL_DELETED': return new CallDeletedException();
    case 'RTP_CALL_MOVED': return new CallMovedException();
    default: return new PoolError(code, message);
  }
}
