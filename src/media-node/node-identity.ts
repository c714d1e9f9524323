import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { publicControlUrl } from '../contract/control-urls';
import type { MediaNodeConfig } from './media-node.config';
import { InjectMediaNodeConfig } from './media-node.constants';

/**
 * Who the node is: `RTP_NODE_ID` (default `rtp-<control port>`) and its public control
 * URL. With `RTP_CONTROL_PORT=0` both use the port actually bound, so they are only
 * final once the HTTP server listens (the registrar starts then).
 */
@Injectable()
export class NodeIdentity {
  constructor(
    @InjectMediaNodeConfig() private readonly config: MediaNodeConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** The control port: the bound one when listening, else the configured one. */
  get port(): number {
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as { address?: () => AddressInfo | string | null } | undefined;
    const addr = server?.address?.();
    return addr && typeof addr === 'object' ? addr.port : this.config.controlPort;
  }

  get nodeId(): string {
    return this.config.nodeId ?? `rtp-${this.port}`;
  }

  get controlUrl(): string {
    return publicControlUrl(this.config.publicUrl, this.config.mediaIp, this.port);
  }
}
