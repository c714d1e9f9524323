import {
  BadRequestException, Injectable, Logger, NotFoundException, type OnApplicationShutdown, ServiceUnavailableException,
} from '@nestjs/common';
import type { PrepareLegResponse } from '../contract/contract.types';
import type { LegCounter } from '../registrar/leg-counter.interface';
import type { MediaNodeConfig } from './media-node.config';
import { InjectMediaNodeConfig } from './media-node.constants';
import { NodeIdentity } from './node-identity';
import { RtpLeg, type LegStats } from './rtp-leg';
import { parseOffer, UnusableOfferError } from './sdp';
import { EvenPortAllocator, NoFreePortError } from './udp-ports';

/** 503 when the node holds RTP_MAX_LEGS legs. */
export class NodeAtCapacityException extends ServiceUnavailableException {
  constructor() {
    super('node at capacity');
  }
}

/** 503 while the node drains (shutting down). */
export class NodeDrainingException extends ServiceUnavailableException {
  constructor() {
    super('node is draining');
  }
}

/** A leg as the node's status shows it. */
export interface LegInfo {
  call_id: string;
  media_port: number;
  codec: string;
  remote: string;
  started: boolean;
  stats: LegStats;
}

/**
 * The node's legs by call id (CONTRACT §2), and its {@link LegCounter} for the registrar.
 * Operations on one call id run one after the other, so a re-prepare racing a delete
 * cannot leak a socket.
 */
@Injectable()
export class LegsService implements LegCounter, OnApplicationShutdown {
  private readonly logger = new Logger('Legs');
  private readonly legs = new Map<string, RtpLeg>();
  private readonly ports: EvenPortAllocator;
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Prepares between their capacity check and their socket: they count against capacity. */
  private reserved = 0;
  private drainingFlag = false;
  /** Prepares refused since start, by reason. */
  readonly refused = { sdp: 0, capacity: 0, draining: 0 };
  private closed = false;

  constructor(
    @InjectMediaNodeConfig() private readonly config: MediaNodeConfig,
    private readonly identity: NodeIdentity,
  ) {
    this.ports = new EvenPortAllocator(config.portMin, config.portMax);
  }

  get draining(): boolean {
    return this.drainingFlag;
  }

  activeLegs(): number {
    return this.legs.size;
  }

  onDrain(): void {
    if (!this.drainingFlag) this.logger.log(`draining: new legs are refused; ${this.legs.size} leg(s) active`);
    this.drainingFlag = true;
  }

  /** Prepares (or re-prepares) a leg: parse the offer, bind a port, answer. */
  prepare(callId: string, offerSdp: string): Promise<PrepareLegResponse> {
    return this.serialize(callId, () => this.prepareNow(callId, offerSdp));
  }

  /** Starts sending RTP (idempotent); 404 for an unknown leg. */
  start(callId: string): Promise<void> {
    return this.serialize(callId, async () => {
      const leg = this.legs.get(callId);
      if (!leg) throw new NotFoundException('leg not found');
      leg.start();
    });
  }

  /** Stops, closes and forgets a leg; 404 for an unknown one. */
  delete(callId: string): Promise<void> {
    return this.serialize(callId, async () => {
      const leg = this.legs.get(callId);
      if (!leg) throw new NotFoundException('leg not found');
      await this.closeLeg(leg);
    });
  }

  /** A leg's state, or undefined. */
  get(callId: string): LegInfo | undefined {
    const leg = this.legs.get(callId);
    return leg && toInfo(leg);
  }

  /** Every leg's state. */
  list(): LegInfo[] {
    return [...this.legs.values()].map(toInfo);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.drainingFlag = true;
    const all = [...this.legs.values()];
    await Promise.all(all.map((l) => this.closeLeg(l)));
    if (all.length) this.logger.log(`closed ${all.length} leg(s) at shutdown`);
  }

  private async prepareNow(callId: string, offerSdp: string): Promise<PrepareLegResponse> {
    if (this.drainingFlag || this.closed) {
      this.refused.draining++;
      throw new NodeDrainingException();
    }
    let offer;
    try {
      offer = parseOffer(offerSdp);
    } catch (e) {
      this.refused.sdp++;
      // Whatever the parser trips on is the offer's fault: a 400, never a 500.
      throw new BadRequestException(e instanceof UnusableOfferError ? e.message : 'offer_sdp could not be parsed');
    }
    let mediaIp = this.config.mediaIp;
    if (offer.family === 6) {
      if (!this.config.mediaIp6) {
        this.refused.sdp++;
        throw new BadRequestException('IPv6 offers are not served by this node (RTP_MEDIA_IP6 is not set)');
      }
      mediaIp = this.config.mediaIp6;
    }
    const old = this.legs.get(callId);
    // A re-prepare replaces the leg: the old one does not count against capacity.
    const held = this.legs.size - (old ? 1 : 0) + this.reserved;
    if (this.config.maxLegs > 0 && held >= this.config.maxLegs) {
      this.refused.capacity++;
      throw new NodeAtCapacityException();
    }
    this.reserved++;
    let bound;
    try {
      bound = await this.ports.bind(offer.family, offer.family === 6 ? this.config.bindIp6 : this.config.bindIp);
    } catch (e) {
      if (e instanceof NoFreePortError) throw new ServiceUnavailableException(e.message);
      this.logger.error(`cannot bind an RTP socket: ${(e as Error).message}`);
      throw new ServiceUnavailableException('cannot bind an RTP socket');
    } finally {
      this.reserved--;
    }
    if (old) await this.closeLeg(old);
    if (this.drainingFlag || this.closed) {
      bound.socket.close();
      this.ports.release(bound.port);
      throw new NodeDrainingException();
    }
    const leg = new RtpLeg(callId, offer, bound.socket, bound.port);
    this.legs.set(callId, leg);
    return { call_id: callId, node_id: this.identity.nodeId, media_ip: mediaIp, media_port: bound.port, codec: offer.codec.name };
  }

  private async closeLeg(leg: RtpLeg): Promise<void> {
    if (this.legs.get(leg.callId) === leg) this.legs.delete(leg.callId);
    await leg.close();
    this.ports.release(leg.port);
  }

  private serialize<T>(callId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(callId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.queues.set(callId, next);
    const cleanup = () => {
      if (this.queues.get(callId) === next) this.queues.delete(callId);
    };
    next.then(cleanup, cleanup);
    return next;
  }
}

function toInfo(l: RtpLeg): LegInfo {
  const remote = l.offer.family === 6 ? `[${l.offer.address}]:${l.offer.port}` : `${l.offer.address}:${l.offer.port}`;
  return { call_id: l.callId, media_port: l.port, codec: l.offer.codec.name, remote, started: l.started, stats: { ...l.stats } };
}
