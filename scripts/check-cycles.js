#!/usr/bin/env node
// Checks the shape of src/ and fails, listing every finding, when:
//  1. the relative imports of src/**/*.ts form a cycle of files;
//  2. two folders import each other, directly or through other folders (a cycle of folders:
//     each folder's own files count, not its sub-folders');
//  3. an import climbs up the layers of src/ (LAYERS below);
//  4. a file is longer than MAX_LINES lines.
// `import type` counts too: a cycle of types is still two modules that each need the other.
// Specs (*.spec.ts) are left out of 2 and 3: a test may reach into any layer to set up what it tests.
// Usage: node scripts/check-cycles.js [dir]   (default: src; the layer rule applies to src only)
const fs = require('node:fs');
const path = require('node:path');

const MAX_LINES = 300;

// The layers of src/, bottom first. A file may import from its own layer and the layers below,
// never from a layer above. A folder belongs to the most specific entry naming it (pool/core
// before pool); '.' is src/'s own files (main.ts, app.module.ts, index.ts).
//   common, contract: neutral helpers and the wire contract, shared by every app in src/
//   node-client: the HTTP client towards media nodes
//   pool/core: the pool's ground floor (tokens, options, plug-in interfaces, errors, events, the
//     job scheduler); the pool's sub-folders all stand on it, it imports none of them
//   registrar: the media-node side of registration (a library of its own)
//   pool: the pool's sub-folders and its facade (PoolModule, PoolService)
//   media-node, testing, edge-companion: the reference media node; test fixtures built on the pool;
//     the SIP edge's move companion (a process of its own, speaking HTTP and SIP only)
//   ops: health, metrics, logging, OpenAPI, dashboard, shutdown
//   http: controllers, security, the lean lane, configureApp and the adapter switch
//   config: reads the environment into the options of everything below
//   '.', demo: main.ts / app.module.ts wire it all; the demo runs the whole app
const LAYERS = [
  ['common'],
  ['contract'],
  ['node-client'],
  ['pool/core', 'registrar'],
  ['pool'],
  ['media-node', 'testing', 'edge-companion'],
  ['ops'],
  ['http'],
  ['config'],
  ['.', 'demo'],
];

const srcRoot = path.join(__dirname, '..', 'src');
const root = path.resolve(process.argv[2] ?? srcRoot);
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
  }
})(root);
const fileSet = new Set(files);
const isSpec = (f) => f.endsWith('.spec.ts');
const rel = (p) => path.relative(root, p) || '.';

// from '…' (import/export), import('…'), require('…'); comments are stripped first.
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;
const resolve = (from, spec) => {
  const base = path.resolve(path.dirname(from), spec).replace(/\.js$/, '');
  return [base + '.ts', path.join(base, 'index.ts'), base].find((c) => fileSet.has(c));
};
const texts = new Map(files.map((f) => [f, fs.readFileSync(f, 'utf8')]));
const graph = new Map(files.map((f) => {
  const text = texts.get(f).replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`])\/\/.*$/gm, '$1');
  return [f, [...new Set([...text.matchAll(SPEC)].map((m) => resolve(f, m[1])).filter(Boolean))]];
}));

/** The cycles of a directed graph (Map node -> successors), one key "a -> b -> c" per cycle. */
function cyclesOf(g) {
  const state = new Map(); // undefined: new, 1: on the stack, 2: done
  const stack = [];
  const found = new Set();
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      if (state.get(m) === 1) {
        const cycle = stack.slice(stack.indexOf(m));
        const start = cycle.indexOf([...cycle].sort()[0]); // one key per cycle, whatever its entry
        found.add([...cycle.slice(start), ...cycle.slice(0, start)].join(' -> '));
      } else if (!state.get(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of g.keys()) if (!state.get(n)) visit(n);
  return [...found].map((key) => `${key} -> ${key.split(' -> ')[0]}`);
}

const problems = [];

// 1. file cycles
const fileGraph = new Map([...graph].map(([f, deps]) => [rel(f), deps.map(rel)]));
for (const c of cyclesOf(fileGraph)) problems.push(`import cycle: ${c}`);

// 2. folder cycles; each edge remembers one import that makes it, to name in the report
const folderGraph = new Map();
const witness = new Map();
for (const [f, deps] of graph) {
  if (isSpec(f)) continue;
  const from = rel(path.dirname(f));
  for (const d of deps) {
    const to = rel(path.dirname(d));
    if (to === from) continue;
    if (!folderGraph.has(from)) folderGraph.set(from, new Set());
    folderGraph.get(from).add(to);
    if (!witness.has(`${from}|${to}`)) witness.set(`${from}|${to}`, `${rel(f)} -> ${rel(d)}`);
  }
}
for (const c of cyclesOf(new Map([...folderGraph].map(([k, v]) => [k, [...v]])))) {
  const hops = c.split(' -> ');
  const why = hops.slice(1).map((to, i) => witness.get(`${hops[i]}|${to}`));
  problems.push(`folder cycle: ${c}\n      (${why.join('; ')})`);
}

// 3. upward imports (only when checking src/ itself: the layers name its folders)
if (root === path.resolve(srcRoot)) {
  const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));
  const layerOf = (file) => {
    for (let dir = rel(path.dirname(file)); ; dir = path.dirname(dir)) {
      if (rank.has(dir)) return dir;
      if (dir === '.' || dir === '') throw new Error(`check-cycles: no layer for ${rel(file)}; add its folder to LAYERS`);
    }
  };
  for (const [f, deps] of graph) {
    if (isSpec(f)) continue;
    for (const d of deps) {
      const [lf, ld] = [layerOf(f), layerOf(d)];
      if (rank.get(ld) > rank.get(lf)) problems.push(`upward import: ${rel(f)} (${lf}) -> ${rel(d)} (${ld})`);
    }
  }
}

// 4. long files
for (const [f, text] of texts) {
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) problems.push(`too long: ${rel(f)} has ${lines} lines (at most ${MAX_LINES})`);
}

const where = path.relative(process.cwd(), root) || '.';
if (problems.length === 0) {
  console.log(`check-cycles: no import cycle, folder cycle, upward import or file over ${MAX_LINES} lines in ${where} (${files.length} files)`);
} else {
  console.error(`check-cycles: ${problems.length} problem(s) in ${where}:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
