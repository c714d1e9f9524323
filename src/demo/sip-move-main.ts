import 'reflect-metadata';
import { join } from 'node:path';
import { numberFlag } from './abortable';
import { table } from './demo';
import { randomRtpPortBase, startLoopbackSystem } from './loopback-system';
import { runSipMoveScene, summarizeMoves } from './sip-move-scene';
import { findSipTools } from './sip-tools';

/**
 * `npm run sip:demo:move [-- --calls N --rate R --drain]`: SIPp calls through Kamailio and
 * rtp-pool on loopback; with every call up, a media node process is SIGKILLed (or drained with a
 * 1 s deadline) and the move companion re-INVITEs its calls onto the other node. Prints each moved call's RTP gap. Exits 0 only if
 * every call of the killed node got media from the survivor again and no SIP call failed.
 */
async function main(): Promise<void> {
  const log = (l: string) => console.log(l);
  const found = findSipTools();
  if (!found.tools) {
    log(found.missing!);
    process.exitCode = 1;
    return;
  }
  log('rtp-pool SIP move demo: a media node dies while its calls are up; the edge re-INVITEs them onto the other node\n');
  const system = await startLoopbackSystem({ nodeIds: [], log, check: () => undefined, pause: (ms) => new Promise((r) => setTimeout(r, ms)), rtpPortBase: randomRtpPortBase(0) });
  try {
    const r = await runSipMoveScene({
      poolUrl: system.sigUrl, tools: found.tools, mediaNodeEntry: join(__dirname, '..', 'media-node', 'main.js'),
      companionEntry: join(__dirname, '..', 'edge-companion', 'main.js'), calls: numberFlag('calls'), rate: numberFlag('rate'), how: process.argv.includes('--drain') ? 'drain' : 'kill', log,
    });
    log('');
    log(table(['call', 'move', 'in its dialog', 'RTP gap', 'RTP from the survivor'],
      r.moved.map((m) => [m.callId, m.status, m.inDialog ? 'yes' : 'no', m.gapMs === undefined ? '–' : `${m.gapMs} ms`, String(m.after)])));
    log(`\n  ${summarizeMoves(r)}`);
    log(`  SIPp: ${r.sipp.successful}/${r.calls} calls succeeded; after the BYEs ${r.legsLeft} leg(s), ${r.bindingsLeft} binding(s) left`);
    const ok = r.moved.length > 0 && r.moved.every((m) => m.status === 'moved' && m.inDialog && m.after > 0)
      && r.sipp.failed === 0 && r.convergedWhileUp && r.legsLeft === 0 && r.bindingsLeft === 0;
    log(ok ? '\n  done: every call of the node got its media back from the survivor.' : '\n  FAILED');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await system.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`sip move demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
