import { spawn } from 'node:child_process';
import * as path from 'node:path';

/**
 * Keeps the benchmark scripts working: `npm run bench -- --smoke` runs every scenario at
 * tiny sizes. No timing is asserted — only that it completes, exits 0 and reports every
 * scenario (each either with its figures or with "skipped: <reason>").
 */
describe('bench --smoke', () => {
  it('runs every scenario and exits 0', async () => {
    const root = path.join(__dirname, '..', '..');
    const child = spawn(process.execPath, ['-r', './bench/register.js', 'bench/run.ts', '--smoke'], {
      cwd: root,
      env: { ...process.env, BENCH_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    if (code !== 0) throw new Error(`bench --smoke exited ${code}\n--- stderr ---\n${err.slice(-6000)}\n--- stdout ---\n${out.slice(-3000)}`);
    for (const n of [1, 2, 3, 4, 5, 6, 7, 10, 11]) expect(out).toMatch(new RegExp(`^### ${n}\\. `, 'm'));
    expect(out).not.toMatch(/^failed: /m);
    expect(out).toMatch(/^## Summary$/m);
    // Every scenario row of the summary table carries a figure (or says why it was skipped).
    const summary = out.slice(out.lastIndexOf('## Summary'));
    for (const n of [1, 2, 3, 4, 5, 6, 7, 10, 11]) expect(summary).toMatch(new RegExp(`^\\| ${n} \\| `, 'm'));
  }, 300_000);
});
