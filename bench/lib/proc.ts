import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';

const REGISTER = path.join(__dirname, '..', 'register.js');

/** A message a child sends on its IPC channel. */
export interface ChildMessage {
  type: string;
  id?: number;
  [k: string]: unknown;
}

/**
 * A child process running one of bench/procs/*.ts (transpiled on the fly by
 * bench/register.js), driven over IPC: it sends `{type:'ready', …}` once, then answers
 * `{id, cmd, …}` requests with `{type:'reply', id, …}`.
 */
export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: ChildMessage) => void; reject: (e: Error) => void }>();
  private readonly stderrTail: string[] = [];
  private exited = false;
  readonly ready: Promise<ChildMessage>;

  private constructor(readonly name: string, readonly proc: ChildProcess) {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      this.stderrTail.push(d);
      if (this.stderrTail.length > 50) this.stderrTail.shift();
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${name}] ${d}`);
    });
    proc.stdout?.resume();
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: ChildMessage) => {
        if (m.type === 'ready') resolve(m);
        if (m.type === 'error') reject(new Error(`${name}: ${String(m.message)}`));
      };
      proc.on('message', onMsg);
      proc.once('exit', (code, sig) => reject(new Error(`${name} exited (${code ?? sig}) before it was ready:\n${this.stderr()}`)));
    });
    this.ready.catch(() => undefined);
    proc.on('message', (m: ChildMessage) => {
      if (m.type !== 'reply' || m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (!w) return;
      if (typeof m.error === 'string') w.reject(new Error(`${name}: ${m.error}`));
      else w.resolve(m);
    });
    proc.once('exit', (code, sig) => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (${code ?? sig}):\n${this.stderr()}`));
      this.waiting.clear();
    });
  }

  /** Starts `bench/procs/<entry>.ts` with extra environment and node flags. */
  static start(entry: string, opts: { env?: Record<string, string>; nodeArgs?: string[]; name?: string; root?: string } = {}): Child {
    // `root`: another checkout's bench/ (the "before" service of scenario 8, BENCH_BASELINE_ROOT).
    const file = path.join(opts.root ?? path.join(__dirname, '..'), 'procs', `${entry}.ts`);
    // BENCH_CPU_PROF=<dir>: every child but the fake nodes writes a V8 CPU profile there (node --cpu-prof).
    const prof = process.env.BENCH_CPU_PROF && entry !== 'farm' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const proc = fork(file, [], {
      execArgv: ['-r', REGISTER, ...prof, ...(opts.nodeArgs ?? [])],
      env: { ...process.env, ...opts.env },
      // A child's stdout (the service's JSON log lines) goes to /dev/null: reading it here would load the load generator.
      stdio: ['ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore', 'pipe', 'ipc'],
    });
    return new Child(opts.name ?? entry, proc);
  }

  /** Sends a command and waits for its reply. */
  call<T = ChildMessage>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited:\n${this.stderr()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (m: ChildMessage) => void, reject });
      this.proc.send({ ...args, id, cmd });
    });
  }

  stderr(): string {
    return this.stderrTail.join('').slice(-4000);
  }

  /** Ends the child (SIGTERM, then SIGKILL after 3 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(t);
  }
}

/**
 * The child side: announces readiness and serves commands. Handlers return a plain
 * object (sent back as the reply) or throw (sent back as `error`).
 */
export function serveCommands(handlers: Record<string, (msg: Record<string, unknown>) => unknown>, ready: Record<string, unknown> = {}): void {
  if (!process.send) throw new Error('not started with an IPC channel');
  // Every child answers `cpu`: its process CPU time (user + system) in µs, for CPU-per-request figures.
  const all: Record<string, (msg: Record<string, unknown>) => unknown> = { cpu: () => cpuUs(), ...handlers };
  process.on('message', async (m: { id: number; cmd: string }) => {
    const h = all[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const out = (await h(m as unknown as Record<string, unknown>)) ?? {};
      process.send!({ ...(out as object), type: 'reply', id: m.id });
    } catch (e) {
      process.send!({ type: 'reply', id: m.id, error: e instanceof Error ? e.stack ?? e.message : String(e) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', ...ready });
}

/** This process's CPU time so far (user + system), µs. */
export function cpuUs(): { us: number } {
  const u = process.cpuUsage();
  return { us: u.user + u.system };
}

/** Reports a fatal start-up error to the parent and exits. */
export function failStartup(e: unknown): never {
  const message = e instanceof Error ? e.stack ?? e.message : String(e);
  process.send?.({ type: 'error', message });
  process.stderr.write(message + '\n');
  process.exit(1);
}
