import { isIP } from 'node:net';
import { ConfigError, type Env, httpUrlProblem, int, str } from '../common/env';
import { loggingFromEnv, type LogLevel } from '../common/logger.params';
import { NODE_ID_PATTERN } from '../contract/dto/register-node.dto';

/** The reference media node's whole configuration, read once from the environment. */
export interface MediaNodeConfig {
  /** RTP_CONTROL_HOST: address the control API listens on. @default 0.0.0.0 */
  controlHost: string;
  /** RTP_CONTROL_PORT: 0 = any free port. @default 8090 */
  controlPort: number;
  /** RTP_NODE_ID @default `rtp-<control port>` (the port actually bound) */
  nodeId?: string;
  /** RTP_MEDIA_IP: the address put in answers and registered as `media_ip`. @default 127.0.0.1 */
  mediaIp: string;
  /** RTP_MEDIA_IP6: the address answered for IPv6 offers; unset = IPv6 offers are refused (400). */
  mediaIp6?: string;
  /** RTP_MEDIA_BIND_IP: local address RTP sockets of IPv4 legs bind. @default 0.0.0.0 */
  bindIp: string;
  /** RTP_MEDIA_BIND_IP6: local address RTP sockets of IPv6 legs bind. @default :: */
  bindIp6: string;
  /** RTP_CONTROL_PUBLIC_URL @default `http://<media_ip>:<port>` */
  publicUrl?: string;
  /** RTP_MAX_LEGS: 0 = unlimited. @default 0 */
  maxLegs: number;
  /** RTP_PORT_MIN: lowest RTP port (rounded up to even). @default 30000 */
  portMin: number;
  /** RTP_PORT_MAX: highest RTP port. @default 40000 */
  portMax: number;
  /** RTP_NODE_TOKEN: required on every path but /v1/health when set. */
  nodeToken?: string;
  /** SIP_REGISTRY_URL: the signaling service; unset = no registration. */
  registryUrl?: string;
  /** RTP_REGISTRY_TOKEN: sent to the registry. */
  registryToken?: string;
  /** RTP_HEARTBEAT_SEC @default 10 */
  heartbeatSec: number;
  /** RTP_DRAIN_TIMEOUT_SEC: at shutdown (SIGTERM), how long to keep serving legs until they end; 0 = exit at once. @default 30 */
  drainTimeoutSec: number;
  /** RTP_NODE_REGION: region label sent with heartbeats. Absent or null: none. */
  region?: string | null;
  /** LOG_LEVEL (pino: fatal, error, warn, info, debug, trace, silent), as the service. @default info */
  logLevel?: LogLevel;
  /** LOG_PRETTY: human-readable lines instead of JSON, as the service. @default false */
  logPretty?: boolean;
}

export const DEFAULT_MEDIA_NODE_CONFIG = {
  controlHost: '0.0.0.0',
  controlPort: 8090,
  mediaIp: '127.0.0.1',
  bindIp: '0.0.0.0',
  bindIp6: '::',
  maxLegs: 0,
  portMin: 30000,
  portMax: 40000,
  heartbeatSec: 10,
  drainTimeoutSec: 30,
} as const;

const HOST_PATTERN = /^[A-Za-z0-9.:%_\-[\]]{1,255}$/;

/** Reads and validates the media node's configuration; throws a ConfigError naming the first bad variable. */
export function loadMediaNodeConfig(env: Env = process.env): MediaNodeConfig {
  const d = DEFAULT_MEDIA_NODE_CONFIG;
  const nodeId = str(env, 'RTP_NODE_ID');
  if (nodeId !== undefined && !NODE_ID_PATTERN.test(nodeId)) {
    throw new ConfigError('RTP_NODE_ID', 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  }
  const mediaIp = str(env, 'RTP_MEDIA_IP', d.mediaIp)!;
  if (!HOST_PATTERN.test(mediaIp)) throw new ConfigError('RTP_MEDIA_IP', `must be an IP literal or a host name, got "${mediaIp}"`);
  const mediaIp6 = str(env, 'RTP_MEDIA_IP6');
  if (mediaIp6 !== undefined && isIP(mediaIp6) !== 6) throw new ConfigError('RTP_MEDIA_IP6', `must be an IPv6 literal, got "${mediaIp6}"`);
  const bindIp = str(env, 'RTP_MEDIA_BIND_IP', d.bindIp)!;
  if (isIP(bindIp) !== 4) throw new ConfigError('RTP_MEDIA_BIND_IP', `must be an IPv4 literal, got "${bindIp}"`);
  const bindIp6 = str(env, 'RTP_MEDIA_BIND_IP6', d.bindIp6)!;
  if (isIP(bindIp6) !== 6) throw new ConfigError('RTP_MEDIA_BIND_IP6', `must be an IPv6 literal, got "${bindIp6}"`);
  const url = (name: string) => {
    const v = str(env, name);
    const problem = v === undefined ? undefined : httpUrlProblem(v);
    if (problem) throw new ConfigError(name, `"${v}" ${problem}`);
    return v?.replace(/\/+$/, '');
  };
  const portMin = int(env, 'RTP_PORT_MIN', d.portMin, 1, 65535);
  const portMax = int(env, 'RTP_PORT_MAX', d.portMax, 1, 65535);
  const firstEven = portMin % 2 === 0 ? portMin : portMin + 1;
  if (firstEven > portMax) throw new ConfigError('RTP_PORT_MAX', `RTP_PORT_MIN..RTP_PORT_MAX (${portMin}..${portMax}) holds no even port`);
  return {
    controlHost: str(env, 'RTP_CONTROL_HOST', d.controlHost)!,
    controlPort: int(env, 'RTP_CONTROL_PORT', d.controlPort, 0, 65535),
    nodeId,
    mediaIp,
    mediaIp6,
    bindIp,
    bindIp6,
    publicUrl: url('RTP_CONTROL_PUBLIC_URL'),
    maxLegs: int(env, 'RTP_MAX_LEGS', d.maxLegs, 0, 10_000_000),
    portMin,
    portMax,
    nodeToken: str(env, 'RTP_NODE_TOKEN'),
    registryUrl: url('SIP_REGISTRY_URL'),
    registryToken: str(env, 'RTP_REGISTRY_TOKEN'),
    heartbeatSec: int(env, 'RTP_HEARTBEAT_SEC', d.heartbeatSec, 1, 3600),
    drainTimeoutSec: int(env, 'RTP_DRAIN_TIMEOUT_SEC', d.drainTimeoutSec, 0, 86_400),
    region: str(env, 'RTP_NODE_REGION'),
    ...(({ level, pretty }) => ({ logLevel: level, logPretty: pretty }))(loggingFromEnv(env)),
  };
}
