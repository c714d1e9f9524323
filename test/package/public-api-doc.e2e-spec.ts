import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { builtEntry } from '../support/dist';

/**
 * docs/public-api.md against what the built package exports (dist/index.d.ts and
 * dist/testing/index.d.ts): every exported name is documented, and nothing documented is not
 * exported, so the document cannot go stale. In the document's tables a name in backticks is
 * an export; a member is written qualified (`PoolStore.claim`) and is not one.
 */
const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'public-api.md'), 'utf8');

/** The names a declaration file exports (values and types), as a user's import sees them. */
function exportedNames(dts: string): string[] {
  const program = ts.createProgram([dts], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(dts)!)!;
  return checker.getExportsOfModule(symbol).map((s) => s.getName()).sort();
}

/** The table rows of the section under `heading`, up to the next `## `. */
function tableRows(heading: string): string[] {
  const start = DOC.indexOf(heading);
  if (start < 0) throw new Error(`docs/public-api.md has no section ${heading}`);
  const end = DOC.indexOf('\n## ', start + heading.length);
  return DOC.slice(start, end < 0 ? undefined : end).split('\n').filter((l) => /^\|/.test(l) && !/^\|\s*-/.test(l)).slice(1);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

describe('docs/public-api.md matches the built exports', () => {
  it('`rtp-pool`: every export documented, every documented name exported', () => {
    const exported = exportedNames(builtEntry('index.d.ts'));
    const documented = new Set<string>();
    for (const row of tableRows('## `rtp-pool`')) {
      for (const m of row.matchAll(/`([^`]+)`/g)) if (IDENTIFIER.test(m[1])) documented.add(m[1]);
    }
    expect(exported.length).toBeGreaterThan(50);
    expect({ undocumented: exported.filter((n) => !documented.has(n)), notExported: [...documented].filter((n) => !exported.includes(n)).sort() })
      .toEqual({ undocumented: [], notExported: [] });
  });

  it('`rtp-pool/testing`: the first column names exactly the exports', () => {
    const exported = exportedNames(builtEntry(join('testing', 'index.d.ts')));
    const documented = new Set<string>();
    for (const row of tableRows('## `rtp-pool/testing`')) {
      const first = row.split('|')[1] ?? '';
      for (const m of first.matchAll(/`([A-Za-z_$][\w$]*)/g)) documented.add(m[1]);
    }
    expect({ undocumented: exported.filter((n) => !documented.has(n)), notExported: [...documented].filter((n) => !exported.includes(n)).sort() })
      .toEqual({ undocumented: [], notExported: [] });
  });
});
