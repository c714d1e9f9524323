import * as http from 'node:http';
import * as net from 'node:net';
import type { BenchContext, Scenario, Section } from '../lib/context';
import { keepAliveAgent, rawRequest } from '../lib/http';
import { pool, type Service, startService } from '../lib/sut';
import { fmtBytes, fmtNum, quantileSorted, spread, table } from '../lib/stats';

/**
 * A client that asks `GET /v1/events` for a replay from the start and never reads past the
 * answer's head: the service's writes fill the loopback socket's buffers, then its own.
 */
function stalledSubscriber(baseUrl: string, lastEventId: string): Promise<{ socket: net.Socket; status: number }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET /v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nLast-Event-ID: ${lastEventId}\r\n\r\n`);
    });
    socket.once('data', (d: Buffer) => {
      socket.pause();
      resolve({ socket, status: Number(d.toString('latin1').split(' ')[1]) });
    });
    socket.on('error', () => undefined);
    socket.once('close', () => reject(new Error('closed before an answer')));
  });
}

interface ReplayRun {
  accepted: number;
  healthMs: number[];
  rssBefore: number;
  rssMax: number;
}

/**
 * Opens `subscribers` stalled replays of the whole log, 50 at a time, while `/health` is
 * probed every 20 ms (and the RSS sampled) from the first open until `windowMs` after the last.
 */
async function stalledReplays(svc: Service, subscribers: number, windowMs: number): Promise<ReplayRun> {
  const rssBefore = (await svc.child.call<{ rss: number }>('memory')).rss;
  let rssMax = rssBefore;
  const opened: Array<{ socket: net.Socket; status: number }> = [];
  const agent = keepAliveAgent(1);
  let end = Infinity;
  try {
    const healthMs: number[] = [];
    const prober = (async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        const r = await rawRequest(agent, 'GET', `${svc.url}/health`);
        if (r.status !== 200) throw new Error(`/health answered ${r.status}`);
        healthMs.push(performance.now() - t0);
        await new Promise((r2) => setTimeout(r2, 20));
      }
    })();
    const rssSampler = (async () => {
      while (Date.now() < end) {
        rssMax = Math.max(rssMax, (await svc.child.call<{ rss: number }>('memory')).rss);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      await pool(Array.from({ length: subscribers }), 50, async () => {
        opened.push(await stalledSubscriber(svc.url, '0-0'));
      });
    } finally {
      end = Date.now() + windowMs;
    }
    await Promise.all([prober, rssSampler]);
    return { accepted: opened.filter((o) => o.status === 200).length, healthMs: healthMs.sort((a, b) => a - b), rssBefore, rssMax };
  } finally {
    end = 0;
    for (const o of opened) o.socket.destroy();
    agent.destroy();
  }
}

/** `GET /` timed `runs` times on a fresh connection each: ms and bytes. */
async function dashboardRenders(url: string, runs: number): Promise<{ ms: number[]; bytes: number; rows: number }> {
  const ms: number[] = [];
  let bytes = 0;
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const agent = new http.Agent({ keepAlive: false });
    const t0 = performance.now();
    const r = await rawRequest(agent, 'GET', `${url}/`);
    ms.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`GET / answered ${r.status}`);
    bytes = Buffer.byteLength(r.body);
    rows = (r.body.match(/<tr data-node-id=/g) ?? []).length;
  }
  return { ms, bytes, rows };
}

/** Registers node ids `from`..`to`-1 (one control URL: no probes run, nothing is called). */
async function registerRange(baseUrl: string, from: number, to: number): Promise<void> {
  const agent = keepAliveAgent(16);
  const ids = Array.from({ length: to - from }, (_, i) => `dash-${from + i}`);
  await pool(ids, 16, async (id) => {
    const r = await rawRequest(agent, 'POST', `${baseUrl}/v1/nodes/register`, {
      node_id: id, control_url: 'http://127.0.0.1:9', media_ip: '127.0.0.1', active_legs: id.length % 97,
    });
    if (r.status !== 200) throw new Error(`register ${id}: ${r.status} ${r.body}`);
  });
  agent.destroy();
}

const fmtMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;

/** 10. The event stream and the dashboard under hostile load (issue: no client can stall the service). */
export const s11: Scenario = {
  id: '11',
  title: 'Event stream and dashboard under hostile load: stalled replays, large fleets',
  async run(ctx: BenchContext): Promise<Section> {
    const subscribers = ctx.smoke ? 50 : 1_000;
    const events = ctx.smoke ? 500 : 10_000;
    const windowMs = ctx.smoke ? 1_000 : 10_000;
    const fleets = ctx.smoke ? [200, 1_000] : [10_000, 100_000];

    // A. Non-reading subscribers replaying the whole log.
    const replays: ReplayRun[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      ctx.log(`s11: run ${r + 1}/${ctx.runs}: ${subscribers} stalled replays of ${events} events`);
      const svc = await startService({ RTP_HEALTH_INTERVAL_MS: '0', RTP_EVENTS_MAX_SUBSCRIBERS: String(subscribers) }, 's11-events');
      try {
        await svc.child.call('publishEvents', { count: events });
        replays.push(await stalledReplays(svc, subscribers, windowMs));
      } finally {
        await svc.stop();
      }
    }
    const p50 = spread(replays.map((x) => quantileSorted(x.healthMs, 0.5)));
    const p99 = spread(replays.map((x) => quantileSorted(x.healthMs, 0.99)));
    const max = spread(replays.map((x) => x.healthMs[x.healthMs.length - 1]));
    const rssBefore = spread(replays.map((x) => x.rssBefore));
    const rssMax = spread(replays.map((x) => x.rssMax));
    const accepted = Math.min(...replays.map((x) => x.accepted));
    const probes = Math.min(...replays.map((x) => x.healthMs.length));

    // B. The dashboard's page at two fleet sizes (one service, nodes added between the sizes).
    const renders: Array<{ nodes: number; ms: number[]; bytes: number; rows: number }> = [];
    const svc = await startService({ RTP_HEALTH_INTERVAL_MS: '0', RTP_MAX_NODES: String(fleets[fleets.length - 1]), RTP_NODE_TTL_SEC: '3600' }, 's11-dashboard');
    try {
      let have = 0;
      for (const n of fleets) {
        ctx.log(`s11: registering nodes up to ${n}`);
        await registerRange(svc.url, have, n);
        have = n;
        const r = await dashboardRenders(svc.url, ctx.runs);
        renders.push({ nodes: n, ...r });
      }
    } finally {
      await svc.stop();
    }

    const fmtS = (s: ReturnType<typeof spread>, f: (n: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
    const md = [
      `### 11. ${this.title}`,
      '',
      `**A. ${fmtNum(subscribers)} non-reading subscribers replaying ${fmtNum(events)} events.** The service (\`RTP_STORE=memory\`, `
      + `\`RTP_EVENTS_MAX_SUBSCRIBERS=${subscribers}\`) holds ${fmtNum(events)} retained events of ~230 B (\`node_down\` with a 120-character `
      + `node id, published through the pool's \`EventFeed\`). ${fmtNum(subscribers)} raw TCP clients each send \`GET /v1/events\` with `
      + `\`Last-Event-ID: 0-0\` and never read past the answer's head (opened 50 at a time); \`GET /health\` is called every 20 ms on one `
      + `keep-alive connection from the first open until ${windowMs / 1000} s after the last, and the service's RSS is sampled every 250 ms. `
      + `${accepted} of ${subscribers} streams were accepted in every run; ${probes}+ probes per run.`,
      '',
      table(['figure', 'median of runs (min–max)'], [
        ['`/health` p50', fmtS(p50, fmtMs)],
        ['`/health` p99', fmtS(p99, fmtMs)],
        ['`/health` max', fmtS(max, fmtMs)],
        ['RSS before the subscribers', fmtS(rssBefore, fmtBytes)],
        ['RSS, highest sample while they replay', fmtS(rssMax, fmtBytes)],
      ]),
      '',
      `**B. The dashboard (\`GET /\`) at ${fleets.map((n) => fmtNum(n)).join(' and ')} registered nodes** (no capacity, so every bar scales by the `
      + `busiest node; no health probes), each request on a new connection: the whole path — the store's node list, the render, the transfer.`,
      '',
      table(['nodes', '`GET /` time, median (min–max)', 'page', 'rows shown'], renders.map((r) => [
        fmtNum(r.nodes), fmtS(spread(r.ms), fmtMs), fmtBytes(r.bytes), fmtNum(r.rows),
      ])),
    ].join('\n');
    return {
      markdown: md,
      summary: [
        ['11', `\`/health\` max while ${fmtNum(subscribers)} stalled subscribers replay ${fmtNum(events)} events`, fmtMs(max.median), `RSS ${fmtBytes(rssBefore.median)} → ${fmtBytes(rssMax.median)}`],
        ['11', `\`GET /\` (dashboard) at ${fmtNum(fleets[fleets.length - 1])} nodes`, fmtMs(spread(renders[renders.length - 1].ms).median), `${fmtNum(fleets[0])} nodes: ${fmtMs(spread(renders[0].ms).median)}`],
      ],
    };
  },
};
