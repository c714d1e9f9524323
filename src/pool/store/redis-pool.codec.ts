import type { Binding, NodeReport, NodeState } from '../core/pool.types';

// ---- field codecs -------------------------------------------------------------------
// Hash fields are strings: numbers in decimal, booleans '1'/'0', nullable fields as JSON
// (so null and '' stay apart). The scripts read static/lastSeen/expiresAt/nodeId raw.

export type NodeRow = [string[], number];

export const flag = (b: boolean): string => (b ? '1' : '0');

export function pairs(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}

export function encodeReport(r: NodeReport): (string | number)[] {
  return [
    'id', r.nodeId, 'controlUrl', r.controlUrl, 'mediaIp', r.mediaIp, 'activeLegs', r.activeLegs,
    'capacity', JSON.stringify(r.capacity), 'weight', r.weight, 'region', JSON.stringify(r.region),
    'reportedDraining', flag(r.reportedDraining), 'static', flag(r.static), 'lastSeen', r.lastSeen,
  ];
}

export function decodeNode([flat, bound]: NodeRow): NodeState {
  const h = pairs(flat);
  return {
    nodeId: h.id,
    controlUrl: h.controlUrl,
    mediaIp: h.mediaIp ?? '',
    activeLegs: Number(h.activeLegs),
    capacity: JSON.parse(h.capacity ?? 'null') as number | null,
    weight: Number(h.weight),
    region: JSON.parse(h.region ?? 'null') as string | null,
    reportedDraining: h.reportedDraining === '1',
    static: h.static === '1',
    lastSeen: Number(h.lastSeen),
    healthy: h.healthy !== '0',
    adminDrained: h.adminDrained === '1',
    drainDeadline: h.drainDeadline ? Number(h.drainDeadline) : null,
    pendingLegs: Number(h.pendingLegs ?? 0),
    boundCalls: Number(bound),
    seq: Number(h.seq),
  };
}

export function encodeBinding(b: Binding): (string | number)[] {
  return [
    'callId', b.callId, 'nodeId', b.nodeId, 'controlUrl', b.controlUrl, 'mediaIp', b.mediaIp,
    'mediaPort', b.mediaPort, 'codec', b.codec, 'started', flag(b.started), 'createdAt', b.createdAt,
    'expiresAt', b.expiresAt, ...(b.version === undefined ? [] : ['version', b.version]),
  ];
}

export function decodeBinding(h: Record<string, string>): Binding {
  return {
    callId: h.callId,
    nodeId: h.nodeId,
    controlUrl: h.controlUrl,
    mediaIp: h.mediaIp ?? '',
    mediaPort: Number(h.mediaPort),
    codec: h.codec ?? '',
    started: h.started === '1',
    createdAt: Number(h.createdAt),
    expiresAt: Number(h.expiresAt),
    ...(h.version === undefined ? {} : { version: h.version }),
  };
}
