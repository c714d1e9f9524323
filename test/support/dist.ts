import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Newest mtime (ms) of the files under `dir` that `nest build` compiles (specs excluded), and which one. */
function newestSource(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const n = e.isDirectory() ? newestSource(p) : /\.ts$/.test(e.name) && !/\.spec\.ts$/.test(e.name) ? { file: p, mtimeMs: statSync(p).mtimeMs } : undefined;
    if (n && n.mtimeMs > newest.mtimeMs) newest = n;
  }
  return newest;
}

/**
 * The path of a built entry point (`main.js`, `media-node/main.js`) for a suite that spawns
 * it. Throws one line naming the step when the build is missing or older than a source file,
 * so such a suite never runs a stale build. `RTP_DIST_DIR` points elsewhere (then only
 * existence is checked).
 */
export function builtEntry(entry: string): string {
  const dist = process.env.RTP_DIST_DIR ?? join(ROOT, 'dist');
  const file = join(dist, entry);
  if (!existsSync(file)) throw new Error(`${relative(ROOT, file)} is missing: run npm run build`);
  if (process.env.RTP_DIST_DIR) return file;
  const src = newestSource(join(ROOT, 'src'));
  if (src.mtimeMs > statSync(file).mtimeMs) {
    throw new Error(`${relative(ROOT, file)} is older than ${relative(ROOT, src.file)}: run npm run build`);
  }
  return file;
}

/** A process of a built entry (`media-node/main.js`, …) with `env` over this one's; its output collected. */
export function spawnBuilt(entry: string, env: Record<string, string>): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  let out = '';
  const child = spawn(process.execPath, [builtEntry(entry)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}
