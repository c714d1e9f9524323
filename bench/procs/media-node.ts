/**
 * A reference media node (src/media-node, as its main.ts starts it) for the SIP-edge
 * scenario: configured from the environment the bench passes in (RTP_CONTROL_PORT=0,
 * SIP_REGISTRY_URL = the service, so it registers and heartbeats itself), Nest's logger
 * at warn and above, no request log. It sends RTP to each started leg's offer address.
 */
import 'reflect-metadata';
import { loadMediaNodeConfig } from '../../src/media-node/media-node.config';
import { startMediaNode } from '../../src/media-node/media-node.app';
import { failStartup, serveCommands } from '../lib/proc';

async function main(): Promise<void> {
  const config = loadMediaNodeConfig({ RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0', ...process.env });
  const node = await startMediaNode(config, { logger: ['error', 'warn'] });
  process.once('SIGTERM', () => {
    // No drain: the bench has ended its calls; exit flushes a --cpu-prof profile.
    void node.app.close().catch(() => undefined).then(() => process.exit(0));
  });
  serveCommands({
    legs: () => ({ count: node.legs.list().length }),
  }, { url: node.url, nodeId: node.nodeId });
}

main().catch(failStartup);
