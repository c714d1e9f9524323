import { Injectable } from '@nestjs/common';
import { PoolService } from 'rtp-pool';

/** The SIP side of a call, in-process: INVITE, ACK and BYE map to prepare, start and delete. */
@Injectable()
export class MediaLegs {
  constructor(private readonly pool: PoolService) {}
  onInvite(callId: string, offerSdp: string) {
    return this.pool.prepare(callId, offerSdp); // { call_id, node_id, media_ip, media_port, codec, control_url }
  }
  onAck(callId: string) { return this.pool.start(callId); }
  onBye(callId: string) { return this.pool.delete(callId); }
}
