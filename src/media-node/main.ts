import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { ConfigError } from '../common/env';
import { loadMediaNodeConfig, type MediaNodeConfig } from './media-node.config';
import { startMediaNode } from './media-node.app';

/** Loads `.env` (development defaults; real environment variables win) and validates it. */
function readConfig(): MediaNodeConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadMediaNodeConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`rtp-media-node: invalid configuration: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

async function bootstrap(): Promise<void> {
  const config = readConfig();
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
