import { runSipMoveScene, summarizeMoves } from '../../src/demo/sip-move-scene';
import { findSipTools, type SipTools } from '../../src/demo/sip-tools';
import { builtEntry } from '../support/dist';
import { createTestApp } from '../support/test-app';

/**
 * Live calls of a dead media node keep their media: SIPp callers through a real Kamailio
 * (deploy/kamailio/kamailio.cfg), two reference media node processes and the move companion
 * (dist/edge-companion/main.js), as `npm run sip:demo:move` runs them. One node is SIGKILLed
 * while every call is up: each of its calls is migrated and re-INVITEd in its dialog, and its
 * caller gets RTP from the survivor again.
 */

const found = findSipTools();
let tools: SipTools;

beforeAll(() => {
  // The test command's provisioning installs these (scripts/provision-test-env.js).
  if (!found.tools) throw new Error(found.missing);
  tools = found.tools;
});

async function moveScene(how: 'kill' | 'drain'): Promise<void> {
  const pool = await createTestApp({ listen: true, env: { RTP_HEALTH_INTERVAL_MS: '200', RTP_HEALTH_TIMEOUT_MS: '500', RTP_CONTROL_TIMEOUT_MS: '1000', RTP_NODE_TTL_SEC: '30' } });
  try {
    const r = await runSipMoveScene({
      poolUrl: pool.url, tools, mediaNodeEntry: builtEntry('media-node/main.js'), companionEntry: builtEntry('edge-companion/main.js'),
      calls: 40, rate: 20, how, log: () => undefined,
    });
    process.stdout.write(`${how}: ${summarizeMoves(r)}\n`);
    const detail = `\n--- companion ---\n${r.companionOutput}`;
    expect(r.moved.length).toBeGreaterThan(0);
    // Every call of the first node: moved, re-INVITEd from the edge's tag of its 200, media from the survivor.
    const notMoved = r.moved.filter((m) => m.status !== 'moved' || !m.inDialog || m.after < 10 || m.gapMs === undefined);
    if (notMoved.length) throw new Error(`calls not moved: ${JSON.stringify(notMoved)}${detail}`);
    // Only those got a re-INVITE.
    expect(new Set(r.reinvited)).toEqual(new Set(r.moved.map((m) => m.callId)));
    expect(r.convergedWhileUp).toBe(true);
    // No SIP failure; every call ended with its BYE, which left nothing behind.
    expect(r.sipp.failed).toBe(0);
    expect(r.sipp.successful).toBe(r.calls);
    expect(r.legsLeft).toBe(0);
    expect(r.bindingsLeft).toBe(0);
  } finally {
    await pool.close();
  }
}

describe('SIP edge: the live calls of a media node that goes away are moved', () => {
  it('SIGKILL: every call live on the killed node is re-INVITEd in its dialog and gets RTP from the survivor; bindings and legs converge', () => moveScene('kill'), 120_000);

  it('a drain whose deadline passes: every call still on the node is moved the same way', () => moveScene('drain'), 120_000);
});
