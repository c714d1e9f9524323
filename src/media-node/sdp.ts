import { isIP } from 'node:net';
import { parse, type MediaDescription } from 'sdp-transform';

/** A codec the reference node can send: G.711 at 8 kHz, 20 ms frames of 160 bytes. */
export interface Codec {
  /** Name as answered (`codec` in PrepareLegResponse). */
  name: 'PCMU' | 'PCMA';
  /** The payload type the offer uses for it. */
  payloadType: number;
}

/** What a leg needs from an offer. */
export interface AudioOffer {
  /** Where to send RTP: the audio stream's connection address and port. */
  address: string;
  port: number;
  family: 4 | 6;
  codec: Codec;
}

/** The offer cannot be used; `message` says why (answered as 400). */
export class UnusableOfferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableOfferError';
  }
}

/** Codecs in preference-free lookup: RTP/AVP static payload types and rtpmap names. */
const SUPPORTED: Record<string, Codec['name']> = { PCMU: 'PCMU', PCMA: 'PCMA' };
const STATIC_PT: Record<number, Codec['name']> = { 0: 'PCMU', 8: 'PCMA' };
const MAX_OFFER_CHARS = 64 * 1024;

/**
 * Reads an SDP offer (parsed with sdp-transform): the first audio m= line with a non-zero
 * port, its connection address (media-level `c=`, else session-level), and the first
 * offered payload type that is PCMU or PCMA (static 0/8 or an rtpmap of that name at
 * 8000 Hz). Throws {@link UnusableOfferError} naming the problem otherwise.
 */
export function parseOffer(sdp: string): AudioOffer {
  if (sdp.length > MAX_OFFER_CHARS) throw new UnusableOfferError(`offer_sdp is longer than ${MAX_OFFER_CHARS} characters`);
  if (!/^\s*v=0\s*$/m.test(sdp.split(/\r?\n/).find((l) => l.trim() !== '') ?? '')) {
    throw new UnusableOfferError('offer_sdp is not an SDP offer (it must start with "v=0")');
  }
  let session: ReturnType<typeof parse>;
  try {
    session = parse(sdp);
  } catch (e) {
    throw new UnusableOfferError(`offer_sdp could not be parsed: ${(e as Error).message}`);
  }
  const media = Array.isArray(session.media) ? session.media : [];
  const audio = media.filter((m) => m.type === 'audio');
  if (audio.length === 0) {
    const kinds = media.map((m) => (typeof m.type === 'string' ? m.type : 'malformed'));
    throw new UnusableOfferError(kinds.length ? `no audio m= line in the offer (only ${kinds.join(', ')})` : 'no audio m= line in the offer');
  }
  const m = audio.find((a) => Number.isInteger(a.port) && a.port > 0 && a.port <= 65535);
  if (!m) {
    throw new UnusableOfferError(audio.some((a) => a.port === 0)
      ? 'every audio m= line of the offer is disabled (port 0)'
      : 'the audio m= line has no valid port (1-65535)');
  }
  const proto = String(m.protocol ?? '');
  if (!/^RTP\/AVPF?$/i.test(proto)) {
    throw new UnusableOfferError(`audio transport ${proto || '(none)'} is not supported (plain RTP/AVP only, no SRTP/DTLS)`);
  }
  const conn = m.connection ?? session.connection;
  if (!conn || !conn.ip) throw new UnusableOfferError('no connection address (c=) for the audio stream');
  const ip = String(conn.ip).split('/')[0];
  const family = isIP(ip);
  if (family === 0) throw new UnusableOfferError(`connection address "${ip}" is not an IP literal`);
  if (conn.version !== family) throw new UnusableOfferError(`connection address "${ip}" does not match its IP${conn.version} type`);
  if (ip === '0.0.0.0' || ip === '::') throw new UnusableOfferError(`connection address ${ip} is unspecified (call on hold)`);
  return { address: ip, port: m.port, family: family as 4 | 6, codec: chooseCodec(m) };
}

function chooseCodec(m: MediaDescription): Codec {
  const pts = String(m.payloads ?? '').trim().split(/\s+/).filter((p) => p !== '');
  const offered: string[] = [];
  for (const p of pts) {
    const pt = Number(p);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const map = m.rtp?.find((r) => r.payload === pt);
    if (map) {
      offered.push(map.codec);
      const name = SUPPORTED[map.codec.toUpperCase()];
      if (name && (map.rate === undefined || map.rate === 8000)) return { name, payloadType: pt };
    } else if (STATIC_PT[pt]) {
      return { name: STATIC_PT[pt], payloadType: pt };
    } else {
      offered.push(`PT ${pt}`);
    }
  }
  throw new UnusableOfferError(
    `no common codec: the offer has ${offered.length ? offered.join(', ') : 'no payload types'}; this node supports PCMU, PCMA`,
  );
}
