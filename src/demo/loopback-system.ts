import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomInt } from 'node:crypto';
import { AppModule } from '../app.module';
import { configureApp } from '../http/app.setup';
import { loadAppConfig } from '../config/app.config';
import type { NodeInfo } from '../contract/contract.types';
import { joinUrl, RegistryPaths } from '../contract/paths';
import { loadMediaNodeConfig } from '../media-node/media-node.config';
import { type RunningMediaNode, startMediaNode } from '../media-node/media-node.app';

export interface LoopbackSystemOptions {
  /** Ids of the reference media nodes to start. */
  nodeIds: string[];
  log: (line: string) => void;
  /** Show the services' own logs. @default false */
  verbose?: boolean;
  /** Throws when the run was aborted (checked between steps). */
  check: () => void;
  pause: (ms: number) => Promise<void>;
  /** First RTP port of the first node (each node gets 1,000 ports). @default 30000 */
  rtpPortBase?: number;
}

export interface LoopbackSystem {
  sig: INestApplication;
  sigUrl: string;
  nodes: RunningMediaNode[];
  listNodes(): Promise<NodeInfo[]>;
  /** Stops the nodes, then the service; never throws. */
  close(): Promise<void>;
}

/** A first RTP port for a run's nodes, random, so two runs on one machine rarely meet (busy ports are skipped anyway). */
export function randomRtpPortBase(nodes: number): number {
  return 20000 + 2 * randomInt(0, (40000 - nodes * 1000) / 2);
}

/**
 * The signaling service (in this process, on 127.0.0.1, a free port) and reference media
 * nodes that register with it, started and waited for until every node is listed.
 */
export async function startLoopbackSystem(o: LoopbackSystemOptions): Promise<LoopbackSystem> {
  const levels: LogLevel[] | false = o.verbose ? ['log', 'warn', 'error'] : false;
  const nodes: RunningMediaNode[] = [];
  let sig: INestApplication | undefined;
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
    await sig?.close().catch(() => undefined);
  };
  try {
    // TTL 6 s: the registry asks for a heartbeat every 2 s.
    const config = loadAppConfig({
      SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: '0', RTP_NODE_TTL_SEC: '6', LOG_LEVEL: o.verbose ? 'info' : 'silent',
      // Probes every 200 ms: a killed node (connection refused) is reported down within a few hundred ms.
      RTP_HEALTH_INTERVAL_MS: '200', RTP_HEALTH_TIMEOUT_MS: '1000',
    });
    sig = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { logger: levels, abortOnError: false });
    configureApp(sig, { maxBodyBytes: config.maxBodyBytes, lean: config.httpLean });
    await sig.listen(0, '127.0.0.1');
    const sigUrl = (await sig.getUrl()).replace('[::1]', '127.0.0.1');
    o.log(`  signaling service   ${sigUrl}`);
    o.check();

    const base = o.rtpPortBase ?? 30000;
    for (const [i, id] of o.nodeIds.entries()) {
      const min = base + i * 1000;
      const node = await startMediaNode(loadMediaNodeConfig({
        RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0', RTP_NODE_ID: id, RTP_MEDIA_IP: '127.0.0.1',
        RTP_MEDIA_BIND_IP: '127.0.0.1', RTP_PORT_MIN: String(min), RTP_PORT_MAX: String(min + 999), SIP_REGISTRY_URL: sigUrl,
        // The demo stops these nodes itself (after its deletes, or at Ctrl-C): no drain wait.
        RTP_DRAIN_TIMEOUT_SEC: '0',
      }), { logger: levels });
      nodes.push(node);
      o.log(`  media node ${id}   ${node.url}   RTP ports ${min}-${min + 999}, registering at ${sigUrl}`);
      o.check();
    }

    const listNodes = async (): Promise<NodeInfo[]> => {
      const res = await fetch(joinUrl(sigUrl, RegistryPaths.nodes));
      return ((await res.json()) as { nodes: NodeInfo[] }).nodes;
    };
    const deadline = Date.now() + 10_000;
    while ((await listNodes()).length < o.nodeIds.length) {
      if (Date.now() > deadline) throw new Error('the media nodes did not register within 10 s');
      await o.pause(50);
      o.check();
    }
    return { sig, sigUrl, nodes, listNodes, close };
  } catch (e) {
    await close();
    throw e;
  }
}
