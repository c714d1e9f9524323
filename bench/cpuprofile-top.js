// Summarises a V8 .cpuprofile (node --cpu-prof): self time by package (node_modules/<pkg>,
// src/<dir>, node: internals) and the top self-time frames, over busy time (idle, GC and
// "(program)" are listed apart).
//   node bench/cpuprofile-top.js <file.cpuprofile> [frames=40] [filter-substring]
'use strict';
const fs = require('node:fs');

const [file, topArg, filter] = process.argv.slice(2);
const top = Number(topArg ?? 40);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
function pkgOf(url) {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const src = url.indexOf('/src/');
  if (src >= 0) return 'src/' + url.slice(src + 5).split('/').slice(0, -1).join('/');
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return 'bench';
  return url;
}
const frames = new Map();
const pkgs = new Map();
let total = 0;
const special = {};
for (const [id, us] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  if (['(idle)', '(program)', '(garbage collector)'].includes(cf.functionName)) {
    special[cf.functionName] = (special[cf.functionName] ?? 0) + us;
    continue;
  }
  total += us;
  const short = cf.url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/').replace(/^file:\/\//, '');
  const key = `${cf.functionName || '(anon)'}  ${short}:${cf.lineNumber + 1}`;
  frames.set(key, (frames.get(key) ?? 0) + us);
  const p = pkgOf(cf.url);
  pkgs.set(p, (pkgs.get(p) ?? 0) + us);
}
const ms = (us) => (us / 1000).toFixed(0).padStart(6) + ' ms';
const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
console.log(`busy ${ms(total)} (excl. ${Object.entries(special).map(([k, v]) => `${k} ${ms(v).trim()}`).join(', ')})`);
console.log('\nself time by package:');
for (const [k, v] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${ms(v)} ${pct(v)}  ${k}`);
console.log('\ntop self-time frames:');
for (const [k, v] of [...frames].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ${pct(v)}  ${k}`);

// Inclusive time of the frames whose "name  file:line" matches INCL (a regex), counted once per sample.
if (process.env.INCL) {
  const re = new RegExp(process.env.INCL);
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n) => `${n.callFrame.functionName || '(anon)'}  ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${n.callFrame.lineNumber + 1}`;
  const incl = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur));
      if (re.test(l) && !seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) ?? 0) + us);
      }
    }
  }
  console.log(`\ninclusive time of /${process.env.INCL}/:`);
  for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ${pct(v)}  ${k}`);
}
