import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { readConfigOrExit } from '../common/read-config';
import { loadMediaNodeConfig } from './media-node.config';
import { startMediaNode } from './media-node.app';

async function bootstrap(): Promise<void> {
  const config = readConfigOrExit('rtp-media-node', loadMediaNodeConfig);
  const node = await startMediaNode(config);
  const log = new Logger('rtp-media-node');
  if (!config.nodeToken) log.warn('RTP_NODE_TOKEN is not set: the leg API is open');
  // SIGTERM/SIGINT: drain, deregister, close every socket, then exit 0.
  node.app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  log.log(
    `${node.nodeId} listening on ${config.controlHost}:${node.port}, media ${config.mediaIp}, RTP ports ${config.portMin}-${config.portMax}` +
      (config.maxLegs ? `, max ${config.maxLegs} legs` : ''),
  );
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`rtp-media-node: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
