import {
  type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import type { RegisterNodeResponse } from '../contract/contract.types';
import { RegistryPaths } from '../contract/paths';
import { JsonHttp, reasonOf } from '../node-client/json-http';
import { InjectLegCounter, type LegCounter } from './leg-counter.interface';
import { REGISTRAR_OPTIONS, type ResolvedRegistrarOptions } from './registrar.module-definition';
import type { HeartbeatBody, RegistrarState, RegistrarStatus } from './registrar.types';

export type { HeartbeatBody, RegistrarState, RegistrarStatus } from './registrar.types';

const MAX_SERVER_HEARTBEAT_SEC = 3600;
const DRAIN_POLL_MS = 100;

/**
 * The media-node side of the registry (CONTRACT §1): registers the node, heartbeats
 * every interval with its `active_legs`, and deregisters at shutdown.
 *
 * Unlike the Go registrar a failed heartbeat never ends the loop: it retries with
 * exponential backoff (capped at the interval, jittered) and logs once when an outage
 * starts and once when it ends. Register is an upsert, so a signaling tier that restarted
 * (or pruned the node) relearns it on the next heartbeat.
 *
 * Shutdown (`beforeApplicationShutdown`, while the HTTP server still serves): the leg
 * counter is told to drain, one heartbeat says `draining: true`, the registrar waits up
 * to `drainTimeoutMs` for active legs to reach 0 (still heartbeating), then sends
 * `DELETE /v1/nodes/{id}` — best effort, short timeout, 404 is fine.
 */
@Injectable()
export class RegistrarService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Registrar');
  /** The same transport the pool uses towards media nodes (undici keep-alive, bounded answers). */
  private readonly http: JsonHttp;
  private running = false;
  private shutDown = false;
  private state: RegistrarState = 'idle';
  private timer?: NodeJS.Timeout;
  private loopAbort?: AbortController;
  private listenSub?: Subscription;
  private identity?: { nodeId: string; controlUrl: string };
  private intervalMs: number;
  private draining: boolean;
  private failures = 0;
  private heartbeats = 0;
  private lastError?: string;
  private shutdownPromise?: Promise<void>;
  private warnedIdle = false;

  constructor(
    @Inject(REGISTRAR_OPTIONS) private readonly options: ResolvedRegistrarOptions,
    @InjectLegCounter() private readonly counter: LegCounter,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.http = new JsonHttp(Math.max(options.requestTimeoutMs, options.deregisterTimeoutMs), 4);
    this.intervalMs = options.heartbeatIntervalMs;
    this.draining = options.draining;
  }

  onApplicationBootstrap(): void {
    if (!this.options.autoStart) return;
    const host = this.adapterHost;
    // An HTTP app registers once it listens: a node on port 0 only then knows its URL.
    if (host?.httpAdapter && !host.listening) {
      this.listenSub = host.listen$.subscribe(() => this.start());
      return;
    }
    this.start();
  }

  /** Starts the heartbeat loop (idempotent). Without a registry URL: one warning, then idle. */
  start(): void {
    if (this.running || this.shutDown) return;
    if (!this.options.registryUrl) {
      if (!this.warnedIdle) this.logger.warn('SIP_REGISTRY_URL is not set: the node does not register (static seed use only)');
      this.warnedIdle = true;
      return;
    }
    const resolve = (v: string | (() => string)) => (typeof v === 'function' ? v() : v);
    this.identity = { nodeId: resolve(this.options.nodeId), controlUrl: resolve(this.options.controlUrl) };
    this.running = true;
    this.loopAbort = new AbortController();
    this.logger.log(`registering ${this.identity.nodeId} (${this.identity.controlUrl}) at ${this.options.registryUrl}`);
    this.schedule(0);
  }

  /** A snapshot of the loop's state. */
  status(): RegistrarStatus {
    return {
      state: this.state, nodeId: this.identity?.nodeId, heartbeats: this.heartbeats, failures: this.failures,
      lastError: this.lastError, intervalMs: this.intervalMs, draining: this.draining,
    };
  }

  /** Changes what heartbeats report as `draining` and sends a heartbeat now. */
  setDraining(draining: boolean): void {
    this.draining = draining;
    if (this.running) this.schedule(0);
  }

  /** Sends one heartbeat now (outside the loop's schedule); rejects on failure. */
  async heartbeat(timeoutMs = this.options.requestTimeoutMs, signal?: AbortSignal): Promise<RegisterNodeResponse> {
    const id = this.requireIdentity();
    const body = await this.body(id);
    const res = await this.request('POST', RegistryPaths.register, timeoutMs, body, signal);
    if (res.status !== 200) throw new Error(`registry answered ${res.status}${res.error ? `: ${res.error}` : ''}`);
    const data = res.json as Partial<RegisterNodeResponse> | undefined;
    return { node_id: data?.node_id ?? id.nodeId, ttl_sec: data?.ttl_sec ?? 0, heartbeat_sec: data?.heartbeat_sec ?? 0 };
  }

  /** `DELETE /v1/nodes/{id}`: true when removed, false when the registry did not know it (404). */
  async deregister(timeoutMs = this.options.deregisterTimeoutMs): Promise<boolean> {
    const id = this.requireIdentity();
    const res = await this.request('DELETE', RegistryPaths.node(id.nodeId), timeoutMs);
    if (res.status === 404) return false;
    if (res.status !== 204 && res.status !== 200) throw new Error(`registry answered ${res.status}${res.error ? `: ${res.error}` : ''}`);
    return true;
  }

  /** The shutdown sequence (also run by `beforeApplicationShutdown`); runs once. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.runShutdown();
    return this.shutdownPromise;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopLoop();
    await this.http.close();
  }

  // ---- the loop -------------------------------------------------------------------

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    const signal = this.loopAbort?.signal;
    let delay: number;
    try {
      const res = await this.heartbeat(this.options.requestTimeoutMs, signal);
      if (!this.running) return;
      this.onSuccess(res);
      delay = this.intervalMs;
    } catch (e) {
      if (!this.running) return;
      this.onFailure(e);
      delay = this.backoffMs(this.failures);
    }
    // A heartbeat requested meanwhile (setDraining) already scheduled one.
    if (this.running && !this.timer) this.schedule(delay);
  }

  private onSuccess(res: RegisterNodeResponse): void {
    this.heartbeats++;
    if (this.failures > 0) {
      this.logger.log(`registry reachable again after ${this.failures} failed heartbeat(s); ${this.identity?.nodeId} registered`);
    }
    this.failures = 0;
    this.lastError = undefined;
    this.state = 'registered';
    const sec = res.heartbeat_sec;
    if (this.options.followServerInterval && Number.isInteger(sec) && sec >= 1 && sec <= MAX_SERVER_HEARTBEAT_SEC) {
      this.intervalMs = sec * 1000;
    }
  }

  private onFailure(e: unknown): void {
    this.failures++;
    this.lastError = describe(e);
    this.state = 'outage';
    if (this.failures === 1) {
      this.logger.warn(`heartbeat to ${this.options.registryUrl} failed (${this.lastError}); retrying with backoff until it answers`);
    }
  }

  /** Exponential from minBackoffMs, capped at the interval, jittered between half and all of it. */
  private backoffMs(failures: number): number {
    const cap = Math.min(this.intervalMs, this.options.minBackoffMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(cap / 2 + (Math.random() * cap) / 2);
  }

  private stopLoop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.loopAbort?.abort();
    this.listenSub?.unsubscribe();
    this.listenSub = undefined;
  }

  private async runShutdown(): Promise<void> {
    this.listenSub?.unsubscribe();
    this.shutDown = true;
    const wasRunning = this.running;
    this.draining = true;
    try {
      await this.counter.onDrain?.();
    } catch (e) {
      this.logger.warn(`leg counter failed to drain: ${describe(e)}`);
    }
    if (!wasRunning) {
      await this.waitForLegs();
      this.stopLoop();
      return;
    }
    try {
      await this.heartbeat(this.options.deregisterTimeoutMs);
    } catch (e) {
      this.logger.warn(`draining heartbeat failed: ${describe(e)}`);
    }
    // The loop keeps heartbeating (draining) while legs finish, so the node is not pruned meanwhile.
    await this.waitForLegs();
    this.stopLoop();
    try {
      const removed = await this.deregister();
      this.logger.log(removed ? `deregistered ${this.identity?.nodeId}` : `${this.identity?.nodeId} was already unknown to the registry`);
    } catch (e) {
      this.logger.warn(`deregister failed: ${describe(e)}`);
    }
    this.state = 'stopped';
  }

  private async waitForLegs(): Promise<void> {
    const deadline = Date.now() + this.options.drainTimeoutMs;
    while (Date.now() < deadline) {
      let legs: number;
      try {
        legs = await this.counter.activeLegs();
      } catch {
        return;
      }
      if (legs <= 0) return;
      await new Promise((r) => setTimeout(r, Math.min(DRAIN_POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  // ---- HTTP -----------------------------------------------------------------------

  private requireIdentity(): { nodeId: string; controlUrl: string } {
    if (!this.identity) throw new Error('registrar not started');
    return this.identity;
  }

  private async body(id: { nodeId: string; controlUrl: string }): Promise<HeartbeatBody> {
    const o = this.options;
    let legs = 0;
    try {
      const n = await this.counter.activeLegs();
      legs = Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0;
    } catch (e) {
      this.logger.warn(`leg counter failed: ${describe(e)}`);
    }
    const b: HeartbeatBody = { node_id: id.nodeId, control_url: id.controlUrl, active_legs: legs };
    if (o.mediaIp) b.media_ip = o.mediaIp;
    if (o.capacity !== undefined && o.capacity > 0) b.capacity = o.capacity;
    if (o.region) b.region = o.region;
    if (o.weight !== undefined) b.weight = o.weight;
    if (this.draining) b.draining = true;
    return b;
  }

  private async request(
    method: 'POST' | 'DELETE', path: string, timeoutMs: number, body?: unknown, signal?: AbortSignal,
  ): Promise<{ status: number; json?: unknown; error?: string }> {
    const res = await this.http.send(method, this.options.registryUrl!, path, {
      data: body, timeoutMs, signal, token: this.options.registryToken,
    });
    return { status: res.status, json: typeof res.data === 'object' ? res.data : undefined, error: reasonOf(res.data) };
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${e.message} (${cause.code})` : e.message;
}
