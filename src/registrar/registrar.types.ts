/** Where the registrar's loop stands. */
export type RegistrarState =
  /** Not started (no registry URL, autoStart off, or waiting for the HTTP server). */
  | 'idle'
  /** The last heartbeat succeeded. */
  | 'registered'
  /** The last heartbeat failed; retrying with backoff. */
  | 'outage'
  /** Shut down (deregistered or gave up at shutdown). */
  | 'stopped';

/** A snapshot of the registrar, for health pages and tests. */
export interface RegistrarStatus {
  state: RegistrarState;
  /** The id it registers (known once started). */
  nodeId?: string;
  /** Heartbeats sent successfully since start. */
  heartbeats: number;
  /** Consecutive failed heartbeats. */
  failures: number;
  /** The reason of the last failure, if any. */
  lastError?: string;
  /** The interval in use (the registry's `heartbeat_sec` when followed). */
  intervalMs: number;
  /** Whether heartbeats say `draining: true`. */
  draining: boolean;
}

/** The body of `POST /v1/nodes/register` as this registrar sends it. */
export interface HeartbeatBody {
  node_id: string;
  control_url: string;
  media_ip?: string;
  active_legs: number;
  capacity?: number;
  region?: string | null;
  weight?: number;
  draining?: boolean;
}
