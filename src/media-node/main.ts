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
  // First SIGTERM/SIGINT: drain (heartbeat draining: true, keep serving the legs until they
  // are gone or RTP_DRAIN_TIMEOUT_SEC runs out), deregister, close every socket, exit 0.
  // A second one: exit at once.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    log.log(`${signal}: draining ${node.legs.list().length} leg(s) for up to ${config.drainTimeoutSec} s, then exiting`);
    node.app.close().then(() => process.exit(0), (e: unknown) => {
      log.error(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log.log(
    `${node.nodeId} listening on ${config.controlHost}:${node.port}, media ${config.mediaIp}, RTP ports ${config.portMin}-${config.portMax}` +
      (config.maxLegs ? `, max ${config.maxLegs} legs` : ''),
  );
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`rtp-media-node: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
