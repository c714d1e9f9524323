import type { Env } from '../../src/common/env';
import { loadMediaNodeConfig } from '../../src/media-node/media-node.config';
import { type RunningMediaNode, startMediaNode } from '../../src/media-node/media-node.app';

/** A reference media node on loopback: control API on 127.0.0.1:0, RTP sockets on 127.0.0.1 / ::1 only. */
export const NODE_TEST_ENV: Env = {
  RTP_CONTROL_HOST: '127.0.0.1',
  RTP_CONTROL_PORT: '0',
  RTP_MEDIA_BIND_IP: '127.0.0.1',
  RTP_MEDIA_BIND_IP6: '::1',
  // Tests close nodes that still hold legs: exit at once (the drain has its own suite).
  RTP_DRAIN_TIMEOUT_SEC: '0',
};

/** Starts a real reference media node (in-process Nest app) from an environment; no logs. */
export function startTestMediaNode(env: Env = {}): Promise<RunningMediaNode> {
  return startMediaNode(loadMediaNodeConfig({ ...NODE_TEST_ENV, ...env }), { logger: false });
}

/** Polls `fn` every 25 ms until it returns true, or throws after `timeoutMs`. */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
