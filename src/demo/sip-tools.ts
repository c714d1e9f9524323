import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The repository's deploy/ directory (this file runs from src/demo or dist/demo). */
export const DEPLOY_DIR = join(__dirname, '..', '..', 'deploy');
export const KAMAILIO_DIR = join(DEPLOY_DIR, 'kamailio');
export const SIPP_DIR = join(DEPLOY_DIR, 'sipp');

/** The Debian packages the SIP edge and its tests need (Kamailio 5.6 with its modules, LuaSocket, SIPp). */
export const SIP_PACKAGES = [
  'kamailio', 'kamailio-utils-modules', 'kamailio-json-modules', 'kamailio-extra-modules', 'kamailio-lua-modules', 'lua-socket', 'sip-tester',
];

function which(cmd: string): string | undefined {
  // Debian puts kamailio in /usr/sbin, which a non-root PATH often lacks.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs.filter(Boolean).map((d) => join(d, cmd)).find((p) => existsSync(p));
}

/** Kamailio's module directories (Debian: /usr/lib/<arch>/kamailio/modules). */
function kamailioModuleDirs(): string[] {
  const out: string[] = [];
  for (const lib of ['/usr/lib', '/usr/lib64', '/usr/local/lib', '/usr/local/lib64']) {
    if (existsSync(join(lib, 'kamailio', 'modules'))) out.push(join(lib, 'kamailio', 'modules'));
    let entries: string[] = [];
    try {
      entries = readdirSync(lib);
    } catch {
      continue;
    }
    for (const e of entries) if (existsSync(join(lib, e, 'kamailio', 'modules'))) out.push(join(lib, e, 'kamailio', 'modules'));
  }
  return out;
}

export interface SipTools {
  kamailio: string;
  sipp: string;
}

/**
 * The installed kamailio and sipp, or the one line naming the Debian packages to install
 * (what is missing decides which: a binary, a Kamailio module, LuaSocket).
 */
export function findSipTools(): { tools?: SipTools; missing?: string } {
  const kamailio = which('kamailio');
  const sipp = which('sipp');
  const missing = new Set<string>();
  if (!kamailio) ['kamailio', 'kamailio-utils-modules', 'kamailio-json-modules', 'kamailio-extra-modules', 'kamailio-lua-modules', 'lua-socket'].forEach((p) => missing.add(p));
  else {
    const dirs = kamailioModuleDirs();
    const has = (m: string) => dirs.some((d) => existsSync(join(d, m)));
    if (!has('http_client.so')) missing.add('kamailio-utils-modules');
    if (!has('jansson.so')) missing.add('kamailio-json-modules').add('kamailio-extra-modules');
    if (!has('app_lua.so')) missing.add('kamailio-lua-modules');
    const luaSocket = ['/usr/share/lua/5.1/socket/http.lua', '/usr/local/share/lua/5.1/socket/http.lua'].some((p) => existsSync(p));
    if (!luaSocket) missing.add('lua-socket');
  }
  if (!sipp) missing.add('sip-tester');
  if (missing.size) {
    const list = SIP_PACKAGES.filter((p) => missing.has(p)).join(' ');
    return { missing: `Kamailio and SIPp are needed (Debian packages): sudo apt-get install ${list}` };
  }
  return { tools: { kamailio: kamailio!, sipp: sipp! } };
}

/** A UDP port free on 127.0.0.1 right now (bound, then released for the process that will use it). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface KamailioOptions {
  /** rtp-pool's base URL (RTP_POOL_URL). */
  poolUrl: string;
  apiToken?: string;
  /** RTP_EDGE_CHILDREN. @default 8 */
  children?: number;
  /** RTP_EDGE_HTTP_TIMEOUT, seconds. */
  httpTimeoutSec?: number;
  /** RTP_EDGE_ACK_TIMEOUT, seconds. */
  ackTimeoutSec?: number;
  /** RTP_EDGE_CALL_TIMEOUT, seconds. */
  callTimeoutSec?: number;
  /** RTP_EDGE_LOG_LEVEL. @default 1 */
  logLevel?: number;
  /** Shared memory, MB (-m). @default 64 */
  shmMb?: number;
  /** RTP_EDGE_MOVER: ip:port of the move companion's SIP socket. */
  mover?: string;
}

/** A Kamailio running deploy/kamailio/kamailio.cfg on 127.0.0.1:<free port>, its runtime files in a temporary directory. */
export class KamailioEdge {
  private child?: ChildProcess;
  private output = '';
  private dir = '';
  port = 0;

  constructor(private readonly bin: string, private readonly opts: KamailioOptions) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Everything Kamailio wrote (stderr and stdout). */
  get log(): string {
    return this.output;
  }

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'rtp-pool-kamailio-'));
    // A port picked free can be taken by another process before Kamailio binds it: try again.
    for (let attempt = 1; ; attempt++) {
      this.port = await freeUdpPort();
      const o = this.opts;
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        SIP_LISTEN: `udp:127.0.0.1:${this.port}`, RTP_POOL_URL: o.poolUrl, RTP_EDGE_DIR: KAMAILIO_DIR,
        RTP_EDGE_CHILDREN: String(o.children ?? 8), RTP_EDGE_LOG_LEVEL: String(o.logLevel ?? 1),
      };
      if (o.apiToken) env.RTP_API_TOKEN = o.apiToken;
      else delete env.RTP_API_TOKEN;
      if (o.httpTimeoutSec !== undefined) env.RTP_EDGE_HTTP_TIMEOUT = String(o.httpTimeoutSec);
      if (o.ackTimeoutSec !== undefined) env.RTP_EDGE_ACK_TIMEOUT = String(o.ackTimeoutSec);
      if (o.callTimeoutSec !== undefined) env.RTP_EDGE_CALL_TIMEOUT = String(o.callTimeoutSec);
      if (o.mover) env.RTP_EDGE_MOVER = o.mover;
      else delete env.RTP_EDGE_MOVER;
      this.output = '';
      const child = spawn(this.bin, ['-f', join(KAMAILIO_DIR, 'kamailio.cfg'), '-Y', this.dir, '-w', this.dir, '-DD', '-E', '-m', String(o.shmMb ?? 64)], {
        env, stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const ready = await Promise.race([this.waitReady(10_000), exited.then(() => false)]);
      if (ready) return this;
      await this.stop();
      if (attempt >= 3 || !/Address already in use|bind/i.test(this.output)) {
        throw new Error(`kamailio did not start:\n${this.output.split('\n').filter((l) => /ERROR|CRITICAL|error/.test(l)).slice(0, 10).join('\n') || this.output.slice(-2000)}`);
      }
      this.dir = mkdtempSync(join(tmpdir(), 'rtp-pool-kamailio-'));
    }
  }

  /** Answers once an OPTIONS is answered 200 (the edge's own liveness check). */
  private async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null) return false;
      if ((await sipRequest(this.port, 'OPTIONS', 500).catch(() => '')).startsWith('SIP/2.0 200')) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }
}

/**
 * Sends one out-of-dialog request (OPTIONS by default) over UDP from a fresh socket and
 * resolves with the first response's text.
 */
export async function sipRequest(port: number, method = 'OPTIONS', timeoutMs = 1000, extra = ''): Promise<string> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const local = (s.address() as AddressInfo).port;
    const tag = Math.random().toString(36).slice(2);
    const msg = [
      `${method} sip:edge@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${tag}`,
      `From: <sip:probe@127.0.0.1:${local}>;tag=${tag}`,
      `To: <sip:edge@127.0.0.1:${port}>`,
      `Call-ID: probe-${tag}@127.0.0.1`,
      `CSeq: 1 ${method}`,
      'Max-Forwards: 70',
      ...(extra ? [extra] : []),
      'Content-Length: 0', '', '',
    ].join('\r\n');
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${method} within ${timeoutMs} ms`)), timeoutMs);
      s.on('message', (m) => {
        const text = m.toString();
        if (/^SIP\/2\.0 1\d\d/.test(text)) return;
        clearTimeout(t);
        resolve(text);
      });
      s.send(msg, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}
