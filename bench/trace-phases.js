// Where a forwarded POST /v1/calls spends its time inside the process that serves it, from
// Node's and undici's diagnostics channels (no change to the code measured): before the
// node call (request event → undici sends the headers), the node call (→ the node's answer
// read), after it (→ the response finished), the event loop's active time over that span,
// and the gap until the next request. Medians over the last 1,000 prepares, written every
// 200 to $TRACE_PHASES_DIR/trace-<pid>.txt (default the working directory). Loaded into
// the service (bench/procs/sut.ts) and the bare forwarders only:
//   NODE_OPTIONS="-r $PWD/bench/trace-phases.js" BENCH_CPU_PROF= \
//     node -r ./bench/register.js bench/profile-s8.ts fastify|http prepare1 3000
'use strict';
const argv = process.argv.join(' ');
if (/procs\/(sut|bare-http|bare-fastify)\.ts/.test(argv)) {
  const dc = require('node:diagnostics_channel');
  const fs = require('node:fs');
  const path = require('node:path');
  const { performance } = require('node:perf_hooks');
  const out = path.join(process.env.TRACE_PHASES_DIR || process.cwd(), `trace-${process.pid}.txt`);
  const now = () => performance.now() * 1000;
  const active = () => performance.eventLoopUtilization().active * 1000;
  const rows = [];
  let cur = null;
  let prev = null;
  dc.subscribe('http.server.request.start', ({ request }) => {
    const t = now();
    const a = active();
    if (prev) {
      prev.gap = t - prev.fin;
      rows.push(prev);
      prev = null;
    }
    cur = request.method === 'POST' && request.url === '/v1/calls' ? { t0: t, a0: a } : null;
  });
  dc.subscribe('undici:client:sendHeaders', () => { if (cur && cur.send === undefined) cur.send = now(); });
  dc.subscribe('undici:request:headers', () => { if (cur && cur.answer === undefined) cur.answer = now(); });
  dc.subscribe('http.server.response.finish', () => {
    if (!cur || cur.answer === undefined) return;
    cur.fin = now();
    cur.busy = active() - cur.a0;
    prev = cur;
    cur = null;
    if (rows.length % 200 !== 199) return;
    const recent = rows.slice(-1000);
    const med = (f) => {
      const v = recent.map(f).sort((x, y) => x - y);
      return v[v.length >> 1].toFixed(1);
    };
    const name = path.basename(process.argv[1] || 'node');
    fs.writeFileSync(out, `${name} n=${rows.length} µs, medians: before the node call ${med((r) => r.send - r.t0)}, `
      + `node call ${med((r) => r.answer - r.send)}, after it ${med((r) => r.fin - r.answer)}, `
      + `request in all ${med((r) => r.fin - r.t0)} (event loop active ${med((r) => r.busy)}), gap to the next ${med((r) => r.gap)}\n`);
  });
}
