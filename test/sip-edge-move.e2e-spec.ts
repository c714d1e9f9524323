import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpCaller } from '../src/demo/rtp-caller';
import { findSipTools, freeUdpPort, KamailioEdge, percentile, type SipTools, startSipp } from '../src/demo/sip-tools';
import { spawnBuilt } from './support/dist';
import { createTestApp } from './support/test-app';
import { eventually } from './support/media-nodes';

/**
 * Live calls of a dead media node keep their media: SIPp callers through a real Kamailio
 * (deploy/kamailio/kamailio.cfg), two reference media node processes, the move companion
 * (dist/edge-companion/main.js). One node is SIGKILLed while its calls are up: each of them is
 * migrated and re-INVITEd, and its caller gets RTP from the survivor again.
 */

const found = findSipTools();
let tools: SipTools;

beforeAll(() => {
  // The test command's provisioning installs these (scripts/provision-test-env.js).
  if (!found.tools) throw new Error(found.missing);
  tools = found.tools;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

async function bindingsOf(poolUrl: string, nodeId: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { calls: { call_id: string }[]; next_cursor: string | null } = await getJson(
      `${poolUrl}/v1/calls?node_id=${encodeURIComponent(nodeId)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.calls.map((c) => c.call_id));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

/**
 * From SIPp's message trace: per Call-ID, the edge's To-tag in the 200 of the INVITE, and the
 * From-tag / To-tag of each in-dialog INVITE the caller received.
 */
function dialogTags(trace: string): { answered: Map<string, string>; reinvites: { callId: string; fromTag: string }[] } {
  const answered = new Map<string, string>();
  const reinvites: { callId: string; fromTag: string }[] = [];
  for (const block of trace.split(/^-{10,}.*$/m)) {
    if (!/UDP message received/.test(block)) continue;
    const msg = block.slice(block.indexOf('\n\n') + 2).trimStart();
    const hdr = (name: string) => new RegExp(`^${name}:(.*)$`, 'mi').exec(msg)?.[1].trim() ?? '';
    const tag = (v: string) => /;tag=([^;\s>]+)/.exec(v)?.[1] ?? '';
    if (msg.startsWith('SIP/2.0 200') && /^1 INVITE$/.test(hdr('CSeq'))) answered.set(hdr('Call-ID'), tag(hdr('To')));
    else if (msg.startsWith('INVITE ')) reinvites.push({ callId: hdr('Call-ID'), fromTag: tag(hdr('From')) });
  }
  return { answered, reinvites };
}

function mediaNodeProcess(id: string, registry: string): { child: ChildProcess; out: () => string } {
  const min = 20000 + 2 * randomInt(0, 19000);
  return spawnBuilt('media-node/main.js', {
    RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0', RTP_NODE_ID: id, RTP_MEDIA_IP: '127.0.0.1', RTP_MEDIA_BIND_IP: '127.0.0.1',
    RTP_PORT_MIN: String(min), RTP_PORT_MAX: String(min + 1999), SIP_REGISTRY_URL: registry, RTP_DRAIN_TIMEOUT_SEC: '0', LOG_LEVEL: 'warn',
  });
}

describe('SIP edge: the live calls of a SIGKILLed media node are moved', () => {
  it('every call live on the killed node is re-INVITEd and gets RTP from the survivor; bindings and legs converge', async () => {
    const pool = await createTestApp({ listen: true, env: { RTP_HEALTH_INTERVAL_MS: '200', RTP_HEALTH_TIMEOUT_MS: '500', RTP_CONTROL_TIMEOUT_MS: '1000', RTP_NODE_TTL_SEC: '30' } });
    const procs = [mediaNodeProcess('move-a', pool.url), mediaNodeProcess('move-b', pool.url)];
    let k: KamailioEdge | undefined;
    let companion: ReturnType<typeof spawnBuilt> | undefined;
    const callers: RtpCaller[] = [];
    const traceDir = mkdtempSync(join(tmpdir(), 'rtp-pool-move-'));
    try {
      const listed = async () => (await getJson<{ nodes: { node_id: string; control_url: string }[] }>(`${pool.url}/v1/nodes`)).nodes;
      await eventually(async () => (await listed()).length === 2, 30_000, 'both nodes registered').catch((e: Error) => {
        throw new Error(`${e.message}\n${procs.map((p) => p.out()).join('\n')}`);
      });
      const urls = Object.fromEntries((await listed()).map((n) => [n.node_id, n.control_url]));
      const moverPort = await freeUdpPort();
      k = await new KamailioEdge(tools.kamailio, { poolUrl: pool.url, children: 16, mover: `127.0.0.1:${moverPort}` }).start();
      companion = spawnBuilt('edge-companion/main.js', { RTP_POOL_URL: pool.url, RTP_EDGE_SIP: k.address, RTP_EDGE_MOVER_PORT: String(moverPort) });
      await eventually(() => companion!.out().includes('"connected"'), 30_000, 'companion following events').catch((e: Error) => {
        throw new Error(`${e.message}\n${companion!.out()}`);
      });

      const calls = 40;
      const rate = 20;
      for (let i = 0; i < calls; i++) callers.push(await new RtpCaller().open());
      const run = await startSipp(tools.sipp, {
        scenario: 'uac-move.xml', target: k.address, calls, rate, args: ['-trace_msg', '-message_file', join(traceDir, 'messages.log')],
        callers: callers.map((c) => ({ ip: c.address, port: c.port })),
      });
      // Every call up (2 s of ramp at 20/s), then the calls bound to move-a are the ones to move.
      await eventually(async () => (await bindingsOf(pool.url, 'move-a')).length + (await bindingsOf(pool.url, 'move-b')).length === calls, 15_000, 'all calls bound');
      await sleep(500);
      const onA = await bindingsOf(pool.url, 'move-a');
      expect(onA.length).toBeGreaterThan(0);
      procs[0].child.kill('SIGKILL');
      const killedAt = Date.now();

      // While the calls are still up: the killed node binds nothing, the survivor holds a leg
      // for exactly the calls bound to it.
      const survivorLegs = async () => (await getJson<{ legs: { call_id: string }[] }>(`${urls['move-b']}/v1/legs`)).legs.map((l) => l.call_id).sort();
      await eventually(async () => (await bindingsOf(pool.url, 'move-a')).length === 0
        && JSON.stringify(await survivorLegs()) === JSON.stringify((await bindingsOf(pool.url, 'move-b')).sort()), 10_000, 'bindings and legs converged')
        .catch((e: Error) => {
          throw new Error(`${e.message}\n--- companion ---\n${companion!.out()}`);
        });

      const res = await run.done;
      // SIPp's call ids are `<n>-<pid>@<ip>`, n from 1 in call order: the caller of call n is callers[n - 1].
      const callerOf = (callId: string) => callers[Number(/^(\d+)-/.exec(callId)![1]) - 1];
      const gaps: number[] = [];
      const noMedia: string[] = [];
      for (const id of onA) {
        // Two streams (one SSRC per leg): the killed node's, then the survivor's.
        const streams = [...callerOf(id).stats.streams.values()].sort((a, b) => a.first - b.first);
        const after = streams.find((s) => s.first > killedAt);
        const before = streams.filter((s) => s.first <= killedAt).pop();
        if (!after || !before || after.packets < 10) noMedia.push(`${id}: ${JSON.stringify(streams)}`);
        else gaps.push(after.first - before.last);
      }
      const lines = companion.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { moved?: string; node_down?: string; status?: string; at: number; ms: number });
      const moves = lines.filter((l) => l.moved).map((l) => JSON.stringify(l));
      const down = lines.find((l) => l.node_down === 'move-a');
      const moveMs = lines.filter((l) => l.status === 'moved').map((l) => l.ms);
      process.stdout.write(`moved ${gaps.length}/${onA.length} calls of the killed node (${calls} up); RTP gap p50 ${percentile(gaps, 50)} ms, max ${Math.max(...gaps)} ms; `
        + `kill → node_down ${down ? down.at - killedAt : '?'} ms; one move (dialog, migrate, re-INVITE, ACK, start) p50 ${percentile(moveMs, 50)} ms, max ${Math.max(...moveMs)} ms\n`);
      if (noMedia.length) throw new Error(`calls without media from the survivor:\n${noMedia.join('\n')}\n--- companion ---\n${moves.join('\n')}`);
      expect(res.failed).toBe(0);
      expect(res.successful).toBe(calls);
      expect(moves.filter((l) => l.includes('"status":"moved"'))).toHaveLength(onA.length);

      // The re-INVITEs are in the caller's dialog: from the edge's tag of the call's 200, one per moved call.
      const tags = dialogTags(readFileSync(join(traceDir, 'messages.log'), 'latin1'));
      expect(new Set(tags.reinvites.map((r) => r.callId))).toEqual(new Set(onA));
      for (const r of tags.reinvites) expect(r.fromTag).toBe(tags.answered.get(r.callId));

      // Every call ended: nothing bound, no leg on the survivor.
      await eventually(async () => (await survivorLegs()).length === 0 && (await bindingsOf(pool.url, 'move-b')).length === 0, 10_000, 'legs gone after the BYEs');
    } finally {
      await k?.stop();
      companion?.child.kill('SIGKILL');
      for (const p of procs) p.child.kill('SIGKILL');
      await Promise.all(callers.map((c) => c.close()));
      await pool.close();
      rmSync(traceDir, { recursive: true, force: true });
    }
  }, 120_000);
});
