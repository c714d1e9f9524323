import {
  BadGatewayException, ConflictException, NotFoundException,
  ServiceUnavailableException, UnprocessableEntityException,
} from '@nestjs/common';

/** 503: no node can take a new call. */
export class NoHealthyNodeException extends ServiceUnavailableException {
  constructor() { super('no healthy rtp nodes'); }
}
/** 422: every node tried refused the offer with a 4xx; carries the last node's reason. */
export class OfferRefusedException extends UnprocessableEntityException {}
/** 502: a node failed otherwise (connect error, timeout, 5xx, wrong status, bad answer). */
export class NodeFailedException extends BadGatewayException {}
/** 404: no binding for the call id. */
export class CallNotFoundException extends NotFoundException {
  constructor() { super('call not found'); }
}
/** 404: unknown (or static, for deregistration) node. */
export class NodeNotFoundException extends NotFoundException {
  constructor() { super('node not found'); }
}
/** 409: the id belongs to a static seed node. */
export class StaticNodeConflictException extends ConflictException {
  constructor(id: string) { super(`node_id "${id}" belongs to a static seed node`); }
}
/** 503: the registry holds its maximum of dynamic nodes. */
export class RegistryFullException extends ServiceUnavailableException {
  constructor() { super('node registry is full'); }
}
// 400 for a bad call or node id: it is the contract's rule, so it lives beside it.
export { InvalidIdException } from '../../contract/call-id';
/** 503: the shared store (Redis) cannot serve the request right now; nothing was decided. */
export class StoreUnavailableException extends ServiceUnavailableException {
  constructor(options?: { cause?: unknown }) { super('store unavailable', options); }
}
/** 409: a migration of this call is already running (on another instance). */
export class MigrationConflictException extends ConflictException {
  constructor(message = 'a migration of this call, or a cleanup of a leftover leg of it, is already running; retry') { super(message); }
}
/** 503: no node other than the call's own can take it. */
export class NoOtherNodeException extends ServiceUnavailableException {
  constructor() { super('no other eligible rtp node'); }
}
