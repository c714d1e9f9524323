#!/usr/bin/env node
// Fails when the relative imports of src/**/*.ts form a cycle, listing each cycle found.
// `import type` counts too: a cycle of types is still two modules that each need the other.
// Usage: node scripts/check-cycles.js [dir]   (default: src)
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'src'));
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
  }
})(root);

// from '…' (import/export), import('…'), require('…'); comments are stripped first.
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;
const resolve = (from, spec) => {
  const base = path.resolve(path.dirname(from), spec).replace(/\.js$/, '');
  return [base + '.ts', path.join(base, 'index.ts'), base].find((c) => files.includes(c));
};
const graph = new Map(files.map((f) => {
  const text = fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`])\/\/.*$/gm, '$1');
  return [f, [...new Set([...text.matchAll(SPEC)].map((m) => resolve(f, m[1])).filter(Boolean))]];
}));

// Depth-first search; a grey node met again closes a cycle.
const state = new Map(); // undefined: new, 1: on the stack, 2: done
const stack = [];
const cycles = new Map();
const visit = (f) => {
  state.set(f, 1);
  stack.push(f);
  for (const g of graph.get(f)) {
    if (state.get(g) === 1) {
      const cycle = stack.slice(stack.indexOf(g)).map((p) => path.relative(root, p));
      const start = cycle.indexOf([...cycle].sort()[0]); // one key per cycle, whatever its entry
      cycles.set([...cycle.slice(start), ...cycle.slice(0, start)].join(' -> '), cycle.length);
    } else if (!state.get(g)) visit(g);
  }
  stack.pop();
  state.set(f, 2);
};
for (const f of files) if (!state.get(f)) visit(f);

if (cycles.size === 0) {
  console.log(`check-cycles: no import cycle in ${path.relative(process.cwd(), root) || '.'} (${files.length} files)`);
} else {
  console.error(`check-cycles: ${cycles.size} import cycle(s) in ${path.relative(process.cwd(), root) || '.'}:`);
  for (const key of cycles.keys()) console.error(`  ${key} -> ${key.split(' -> ')[0]}`);
  process.exit(1);
}
