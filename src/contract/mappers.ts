import type { CallBinding, NodeInfo, PrepareCallResponse } from './contract.types';

/**
 * camelCase → snake_case: the pool's own views of nodes and bindings as the wire carries
 * them. The input shapes are structural (the pool's NodeState and Binding fit), so the
 * contract imports nothing of the pool.
 */
export interface NodeView {
  nodeId: string; controlUrl: string; mediaIp: string; activeLegs: number; healthy: boolean; static: boolean;
  capacity: number | null; weight: number; region: string | null; reportedDraining: boolean; adminDrained: boolean;
  /** Epoch ms, null without a deadline. */
  drainDeadline: number | null;
  /** Epoch ms. */
  lastSeen: number;
  boundCalls: number;
}

export interface BindingView {
  callId: string; nodeId: string; controlUrl: string; mediaIp: string; mediaPort: number; codec: string; started: boolean;
  /** Epoch ms. */
  createdAt: number;
}

/** A `GET /v1/nodes` row. */
export function toNodeInfo(n: NodeView): NodeInfo {
  return {
    node_id: n.nodeId, control_url: n.controlUrl, media_ip: n.mediaIp, active_legs: n.activeLegs,
    healthy: n.healthy, static: n.static, capacity: n.capacity, weight: n.weight, region: n.region,
    draining: n.reportedDraining || n.adminDrained, last_seen: new Date(n.lastSeen).toISOString(), bound_calls: n.boundCalls,
    drain_deadline: n.drainDeadline === null ? null : new Date(n.drainDeadline).toISOString(),
  };
}

/** A `GET /v1/calls/{id}` body. */
export function toCallBinding(b: BindingView): CallBinding {
  return {
    call_id: b.callId, node_id: b.nodeId, control_url: b.controlUrl, media_ip: b.mediaIp,
    media_port: b.mediaPort, codec: b.codec, started: b.started, created_at: new Date(b.createdAt).toISOString(),
  };
}

/** A `POST /v1/calls` answer. */
export function toPrepareAnswer(b: BindingView): PrepareCallResponse {
  return {
    call_id: b.callId, node_id: b.nodeId, media_ip: b.mediaIp, media_port: b.mediaPort,
    codec: b.codec, control_url: b.controlUrl,
  };
}
