import fc from 'fast-check';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { RtpCaller } from '../../src/demo/rtp-caller';
import { loadMediaNodeConfig } from '../../src/media-node/media-node.config';
import { type RunningMediaNode, startMediaNode } from '../../src/media-node/media-node.app';
import { buildRtpPacket, readRtpHeader, silenceFrame } from '../../src/media-node/rtp';
import { parseOffer, UnusableOfferError } from '../../src/media-node/sdp';
import { ConfigError } from '../../src/common/env';
import { NODE_TEST_ENV } from '../support/media-nodes';
import { sleep } from '../../src/common/sleep';


/** Binds a UDP socket on an even port of 127.0.0.1 (bounded search), to make that port busy. */
async function bindEvenPort(): Promise<Socket> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 4000);
    const s = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return s;
    try { s.close(); } catch { /* not bound */ }
  }
  throw new Error('no even port found');
}

describe('media node: SDP offers (parseOffer)', () => {
  const base = (m: string, c = 'c=IN IP4 127.0.0.1') => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n${c}\r\nt=0 0\r\n${m}\r\n`;

  it('picks the first supported codec in offer order, by static PT or rtpmap', () => {
    expect(parseOffer(base('m=audio 4000 RTP/AVP 8 0')).codec).toEqual({ name: 'PCMA', payloadType: 8 });
    expect(parseOffer(base('m=audio 4000 RTP/AVP 111 0 8\r\na=rtpmap:111 opus/48000/2')).codec).toEqual({ name: 'PCMU', payloadType: 0 });
    expect(parseOffer(base('m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 pcma/8000')).codec).toEqual({ name: 'PCMA', payloadType: 96 });
  });

  it('refuses unusable offers, naming the problem', () => {
    const why = (sdp: string) => {
      try {
        parseOffer(sdp);
      } catch (e) {
        expect(e).toBeInstanceOf(UnusableOfferError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(why(base('m=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2'))).toMatch(/no common codec.*opus.*PCMU, PCMA/);
    expect(why(base('m=video 4000 RTP/AVP 96'))).toMatch(/no audio m= line/);
    expect(why(base('m=audio 4000 RTP/AVP 0', ''))).toMatch(/no connection address/);
    expect(why('hello world')).toMatch(/not an SDP offer/);
    expect(why('')).toMatch(/not an SDP offer/);
    expect(why(base('m=audio 0 RTP/AVP 0'))).toMatch(/disabled/);
    expect(why(base('m=audio 4000 UDP/TLS/RTP/SAVPF 0'))).toMatch(/not supported/);
    expect(why(base('m=audio 4000 RTP/AVP 0', 'c=IN IP4 0.0.0.0'))).toMatch(/on hold/);
    expect(why(base('m=audio 4000 RTP/AVP 0', 'c=IN IP4 sip.example.com'))).toMatch(/not an IP literal/);
    expect(why(base('m=audio 4000 RTP/AVP 0', 'c=IN IP6 127.0.0.1'))).toMatch(/does not match/);
  });

  it('never fails with anything but a reason for arbitrary text or mangled offers', () => {
    const valid = base('m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000');
    const lines = valid.split('\r\n');
    const check = (sdp: string) => {
      try {
        const o = parseOffer(sdp);
        expect(o.port).toBeGreaterThanOrEqual(1);
        expect(o.port).toBeLessThanOrEqual(65535);
        expect(['PCMU', 'PCMA']).toContain(o.codec.name);
        expect(isIP(o.address)).toBe(o.family);
      } catch (e) {
        if (!(e instanceof UnusableOfferError)) throw e;
        expect(e.message.length).toBeGreaterThan(0);
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => check(s)), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => check('v=0\r\n' + s)), { numRuns: 300 });
    // Replace one line of a valid offer with junk, or cut it anywhere.
    fc.assert(fc.property(fc.nat(lines.length - 1), fc.string({ maxLength: 40 }), (i, junk) => {
      const l = [...lines];
      l[i] = l[i].slice(0, 2) + junk;
      check(l.join('\r\n'));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.nat(valid.length), (n) => check(valid.slice(0, n))), { numRuns: 200 });
    expect(() => parseOffer(base('m=audio 99999999999999999999 RTP/AVP 0'))).toThrow(/no valid port/);
    expect(() => parseOffer(base('m=audio 5/2 RTP/AVP 0'))).toThrow(/no audio m= line in the offer \(only malformed\)/);
  });

  it('takes the first enabled audio line among several, with a media-level c= over the session one', () => {
    const o = parseOffer(base('m=video 5000 RTP/AVP 96\r\nm=audio 0 RTP/AVP 0\r\nm=audio 6000 RTP/AVP 8\r\nc=IN IP6 ::1'));
    expect(o).toEqual({ address: '::1', port: 6000, family: 6, codec: { name: 'PCMA', payloadType: 8 } });
  });
});

describe('media node: RTP header', () => {
  it('writes V=2, PT, sequence, timestamp, SSRC in 12 bytes and reads them back', () => {
    const p = buildRtpPacket({ marker: true, payloadType: 8, sequence: 0xfffe, timestamp: 0xfffffff0, ssrc: 0xdeadbeef }, silenceFrame('PCMA'));
    expect(p.length).toBe(172);
    expect(p[0]).toBe(0x80);
    expect(p[1]).toBe(0x88);
    expect(p.readUInt16BE(2)).toBe(0xfffe);
    expect(p.readUInt32BE(4)).toBe(0xfffffff0);
    expect(p.readUInt32BE(8)).toBe(0xdeadbeef);
    expect(p.subarray(12).every((b) => b === 0xd5)).toBe(true);
    expect(readRtpHeader(p)).toEqual({ version: 2, marker: true, payloadType: 8, sequence: 0xfffe, timestamp: 0xfffffff0, ssrc: 0xdeadbeef });
    expect(silenceFrame('PCMU').every((b) => b === 0xff)).toBe(true);
    expect(readRtpHeader(Buffer.from([0x80, 0, 0]))).toBeUndefined();
    expect(readRtpHeader(Buffer.alloc(12))).toBeUndefined(); // version 0
  });
});

describe('media node: config', () => {
  it('names the bad variable', () => {
    expect(() => loadMediaNodeConfig({ RTP_MAX_LEGS: 'ten' })).toThrow(new ConfigError('RTP_MAX_LEGS', 'must be an integer, got "ten"'));
    expect(() => loadMediaNodeConfig({ RTP_PORT_MIN: '5001', RTP_PORT_MAX: '5001' })).toThrow(/RTP_PORT_MAX/);
    expect(() => loadMediaNodeConfig({ SIP_REGISTRY_URL: 'ftp://x' })).toThrow(/SIP_REGISTRY_URL/);
    expect(() => loadMediaNodeConfig({ RTP_NODE_ID: 'a b' })).toThrow(/RTP_NODE_ID/);
    expect(loadMediaNodeConfig({})).toMatchObject({ controlPort: 8090, portMin: 30000, portMax: 40000, maxLegs: 0, heartbeatSec: 10, drainTimeoutSec: 30 });
  });
});

describe('media node: leg API over real UDP', () => {
  let node: RunningMediaNode;
  let busy: Socket;
  const callers: RtpCaller[] = [];
  const caller = async (addr?: string) => {
    const c = await new RtpCaller(addr).open();
    callers.push(c);
    return c;
  };

  beforeAll(async () => {
    busy = await bindEvenPort();
    const p = (busy.address() as AddressInfo).port;
    node = await startMediaNode(loadMediaNodeConfig({
      RTP_DRAIN_TIMEOUT_SEC: '0',
      ...NODE_TEST_ENV, RTP_NODE_ID: 'node-t', RTP_MAX_LEGS: '3', RTP_NODE_TOKEN: 'n0de-secret', RTP_MEDIA_IP6: '::1',
      // The first even port of the range is busy: legs must skip it.
      RTP_PORT_MIN: String(p), RTP_PORT_MAX: String(p + 40),
    }), { logger: false });
  });
  afterAll(async () => {
    await Promise.all(callers.map((c) => c.close()));
    await node?.close();
    busy.close();
  });
  afterEach(async () => {
    await Promise.all(node.legs.list().map((l) => node.legs.delete(l.call_id)));
  });

  const http = () => request(node.url);
  const auth = { authorization: 'Bearer n0de-secret' };

  it('serves /v1/health without a token and the leg paths only with it', async () => {
    const h = await http().get('/v1/health').expect(200);
    expect(h.body).toEqual({ status: 'ok', node_id: 'node-t', active_legs: 0, media_ip: '127.0.0.1', capacity: 3, draining: false });
    const c = await caller();
    await http().post('/v1/legs').send({ call_id: 'x', offer_sdp: c.offer() }).expect(401, { error: 'missing bearer token' });
    await http().post('/v1/legs').set({ authorization: 'Bearer nope' }).send({ call_id: 'x', offer_sdp: c.offer() }).expect(401);
    await http().delete('/v1/legs/x').expect(401);
    expect(node.legs.activeLegs()).toBe(0);
  });

  it('prepares on an even port (skipping a busy one), sends RTP after start only, echoes, and stops on delete', async () => {
    const c = await caller();
    const busyPort = (busy.address() as AddressInfo).port;
    const res = await http().post('/v1/legs').set(auth).send({ call_id: 'call/1@x', offer_sdp: c.offer([8, 0]) }).expect(201);
    expect(res.body).toEqual({ call_id: 'call/1@x', node_id: 'node-t', media_ip: '127.0.0.1', media_port: expect.any(Number), codec: 'PCMA' });
    const port = res.body.media_port as number;
    expect(port % 2).toBe(0);
    expect(port).not.toBe(busyPort);
    expect(port).toBeGreaterThan(busyPort);
    await sleep(100);
    expect(c.stats.fromNode).toBe(0);

    const path = '/v1/legs/' + encodeURIComponent('call/1@x');
    await http().post(path + '/start').set(auth).expect(200, { status: 'active' });
    await http().post(path + '/start').set(auth).expect(200); // idempotent
    await c.waitFor((s) => s.fromNode >= 5, 3000, 'RTP from the node');
    expect([...c.stats.payloadTypes]).toEqual([8]);
    expect(c.stats.nodeSsrcs.size).toBe(1); // one stream, even after a second start

    c.sendTo('127.0.0.1', port, 10);
    await c.waitFor((s) => s.echoed >= 10, 3000, 'the echo');
    expect(node.legs.get('call/1@x')?.stats).toMatchObject({ received: 10, echoed: 10 });

    await http().delete(path).set(auth).expect(204);
    await sleep(60);
    const after = c.stats.fromNode;
    await sleep(150);
    expect(c.stats.fromNode).toBe(after);
    await http().delete(path).set(auth).expect(404, { error: 'leg not found' });
    await http().post(path + '/start').set(auth).expect(404);
  });

  it('checks the RTP stream itself: sequence +1 and timestamp +160 per packet, 172-byte packets', async () => {
    const sock = createSocket('udp4');
    const packets: Buffer[] = [];
    sock.on('message', (m) => packets.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const c = { address: '127.0.0.1', port: (sock.address() as AddressInfo).port };
      const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${c.port} RTP/AVP 0\r\n`;
      await http().post('/v1/legs').set(auth).send({ call_id: 'seq', offer_sdp: sdp }).expect(201);
      await http().post('/v1/legs/seq/start').set(auth).expect(200);
      for (let i = 0; i < 150 && packets.length < 6; i++) await sleep(20);
      expect(packets.length).toBeGreaterThanOrEqual(6);
      const hs = packets.slice(0, 6).map((p) => readRtpHeader(p)!);
      for (const [i, h] of hs.entries()) {
        expect(packets[i].length).toBe(172);
        expect(h).toMatchObject({ version: 2, payloadType: 0, ssrc: hs[0].ssrc });
        if (i > 0) {
          expect(h.sequence).toBe((hs[i - 1].sequence + 1) & 0xffff);
          expect(h.timestamp).toBe((hs[i - 1].timestamp + 160) >>> 0);
        }
      }
    } finally {
      sock.close();
    }
  });

  it('answers an IPv6 offer from an IPv6 socket', async () => {
    const c = await caller('::1');
    const res = await http().post('/v1/legs').set(auth).send({ call_id: 'v6', offer_sdp: c.offer([0]) }).expect(201);
    expect(res.body).toMatchObject({ media_ip: '::1', codec: 'PCMU' });
    await http().post('/v1/legs/v6/start').set(auth).expect(200);
    await c.waitFor((s) => s.fromNode >= 3, 3000, 'RTP over IPv6');
  });

  it('uses the first audio line of an offer with several media lines', async () => {
    const c = await caller();
    const sdp = c.offer([0]).replace('m=audio', 'm=video 9 RTP/AVP 96\r\nm=audio');
    expect(sdp.indexOf('m=video')).toBeLessThan(sdp.indexOf('m=audio'));
    await http().post('/v1/legs').set(auth).send({ call_id: 'multi', offer_sdp: sdp }).expect(201);
    await http().post('/v1/legs/multi/start').set(auth).expect(200);
    await c.waitFor((s) => s.fromNode >= 3, 3000, 'RTP to the audio port');
  });

  it('refuses unusable SDP with 400 naming the problem, holding nothing', async () => {
    const c = await caller();
    const cases: [string, RegExp][] = [
      [c.offer([111]), /no common codec/],
      [c.offer([0]).replace('m=audio', 'm=video'), /no audio m= line/],
      [c.offer([0]).replace(/c=IN IP4 127\.0\.0\.1\r\n/, ''), /no connection address/],
      ['not an sdp at all', /not an SDP offer/],
    ];
    for (const [sdp, why] of cases) {
      const res = await http().post('/v1/legs').set(auth).send({ call_id: 'bad', offer_sdp: sdp }).expect(400);
      expect(res.body.error).toMatch(why);
    }
    await http().post('/v1/legs').set(auth).send({ call_id: 'bad' }).expect(400);
    await http().post('/v1/legs').set(auth).send({ call_id: 'bad', offer_sdp: 'v=0', extra: 1 }).expect(400);
    await http().post('/v1/legs').set(auth).set('content-type', 'application/json').send('{"call_id":').expect(400);
    expect(node.legs.activeLegs()).toBe(0);
  });

  it('replaces a leg on a second prepare (the old socket is closed) and answers 503 at RTP_MAX_LEGS', async () => {
    const c = await caller();
    const first = await http().post('/v1/legs').set(auth).send({ call_id: 're', offer_sdp: c.offer() }).expect(201);
    const second = await http().post('/v1/legs').set(auth).send({ call_id: 're', offer_sdp: c.offer([8]) }).expect(201);
    expect(second.body.codec).toBe('PCMA');
    expect(second.body.media_port).not.toBe(first.body.media_port);
    expect(node.legs.activeLegs()).toBe(1);
    // The old port is free again: binding it succeeds.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(first.body.media_port, '127.0.0.1', () => resolve());
    });
    probe.close();

    await http().post('/v1/legs').set(auth).send({ call_id: 'two', offer_sdp: c.offer() }).expect(201);
    await http().post('/v1/legs').set(auth).send({ call_id: 'three', offer_sdp: c.offer() }).expect(201);
    await http().post('/v1/legs').set(auth).send({ call_id: 'four', offer_sdp: c.offer() }).expect(503, { error: 'node at capacity' });
    // A re-prepare of a held leg is not a new leg: allowed at capacity.
    await http().post('/v1/legs').set(auth).send({ call_id: 'two', offer_sdp: c.offer() }).expect(201);
    expect(node.legs.activeLegs()).toBe(3);
    expect((await http().get('/v1/health').expect(200)).body.active_legs).toBe(3);
  });
});

describe('media node: draining', () => {
  it('refuses new legs with 503 while draining, keeps serving existing ones, and closes every socket at shutdown', async () => {
    const node = await startMediaNode(loadMediaNodeConfig({ ...NODE_TEST_ENV, RTP_PORT_MIN: '31000', RTP_PORT_MAX: '31999' }), { logger: false });
    const c = await new RtpCaller().open();
    try {
      const res = await request(node.url).post('/v1/legs').send({ call_id: 'd1', offer_sdp: c.offer() }).expect(201);
      node.legs.onDrain();
      await request(node.url).post('/v1/legs').send({ call_id: 'd2', offer_sdp: c.offer() }).expect(503, { error: 'node is draining' });
      expect((await request(node.url).get('/v1/health')).body).toMatchObject({ draining: true, active_legs: 1, capacity: null });
      await request(node.url).post('/v1/legs/d1/start').expect(200);
      await c.waitFor((s) => s.fromNode >= 2, 3000, 'RTP while draining');
      await node.close();
      await sleep(60); // a packet already in flight may still land
      const n = c.stats.fromNode;
      await sleep(120);
      expect(c.stats.fromNode).toBe(n);
      // The socket is closed: its port can be bound again.
      const probe = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind(res.body.media_port, '127.0.0.1', () => resolve());
      });
      probe.close();
    } finally {
      await c.close();
      await node.close();
    }
  });
});
