/**
 * Wire types of the HTTP contract (docs/CONTRACT.md). Field names are snake_case
 * because they are the JSON the wire carries; a media node or registrar written for
 * the Go design reads and writes exactly these shapes.
 */

/** `POST /v1/nodes/register` answer. */
export interface RegisterNodeResponse {
  node_id: string;
  ttl_sec: number;
  /** Extension: the heartbeat interval the registrar should use. */
  heartbeat_sec: number;
}

/** One node as `GET /v1/nodes` lists it. */
export interface NodeInfo {
  node_id: string;
  control_url: string;
  media_ip: string;
  active_legs: number;
  healthy: boolean;
  static: boolean;
  /** Extension: max legs, null when unbounded. */
  capacity: number | null;
  /** Extension: relative share for weighted strategies. */
  weight: number;
  /** Extension: region label, null when unset. */
  region: string | null;
  /** Extension: reported or operator drain. */
  draining: boolean;
  /** Extension: ISO-8601 UTC time of the last heartbeat (or start-up for static seeds). */
  last_seen: string;
  /** Extension: calls this pool has bound to the node. */
  bound_calls: number;
  /** Extension (§5): ISO-8601 UTC deadline of an operator drain, null without one. */
  drain_deadline: string | null;
}

/** `POST /v1/legs` request towards a media node. */
export interface PrepareLegRequest {
  call_id: string;
  offer_sdp: string;
}

/** `POST /v1/legs` answer from a media node (201). */
export interface PrepareLegResponse {
  call_id: string;
  /** Optional in the Go seed; the pool fills in its own id for the node. */
  node_id?: string;
  media_ip: string;
  media_port: number;
  codec: string;
}

/** `POST /v1/calls` answer: the node's answer plus where the call lives. */
export interface PrepareCallResponse extends PrepareLegResponse {
  node_id: string;
  control_url: string;
}

/** `POST /v1/calls/{call_id}/migrate` answer (CONTRACT §5). */
export interface MigrateCallResponse extends PrepareCallResponse {
  /** The node the call was on before. */
  previous_node_id: string;
}

/** `GET /v1/calls?node_id=…` answer (CONTRACT §5). */
export interface CallListResponse {
  calls: CallBinding[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** `GET /v1/calls/{call_id}` answer. */
export interface CallBinding {
  call_id: string;
  node_id: string;
  control_url: string;
  media_ip: string;
  media_port: number;
  codec: string;
  started: boolean;
  /** ISO-8601 UTC. */
  created_at: string;
}

/** `POST /v1/calls/{call_id}/start` answer. */
export interface StartCallResponse {
  call_id: string;
  node_id: string;
}

/** `GET /v1/health` answer of a media node. */
export interface HealthResponse {
  status: string;
  node_id: string;
  active_legs: number;
  media_ip: string;
  capacity?: number | null;
  draining?: boolean;
}

/** Every error body, from every path. */
export interface ErrorResponse {
  error: string;
}
