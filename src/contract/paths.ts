/**
 * Path builders for both sides of the contract. Ids are percent-encoded whenever they
 * are put in a URL path: SIP Call-IDs contain `@`, `/`, `%` and spaces.
 */
const enc = encodeURIComponent;

export const RegistryPaths = {
  register: '/v1/nodes/register',
  nodes: '/v1/nodes',
  node: (nodeId: string) => `/v1/nodes/${enc(nodeId)}`,
  drain: (nodeId: string) => `/v1/nodes/${enc(nodeId)}/drain`,
  undrain: (nodeId: string) => `/v1/nodes/${enc(nodeId)}/undrain`,
} as const;

export const CallPaths = {
  calls: '/v1/calls',
  call: (callId: string) => `/v1/calls/${enc(callId)}`,
  start: (callId: string) => `/v1/calls/${enc(callId)}/start`,
} as const;

export const NodePaths = {
  health: '/v1/health',
  legs: '/v1/legs',
  leg: (callId: string) => `/v1/legs/${enc(callId)}`,
  start: (callId: string) => `/v1/legs/${enc(callId)}/start`,
} as const;

/** Joins a control URL (no trailing `/`) and a path. */
export function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base.slice(0, -1) + path : base + path;
}
