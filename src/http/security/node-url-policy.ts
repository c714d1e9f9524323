import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { CidrAllowList } from './cidr';
import {
  type HostResolver, resolveSecurityOptions, SECURITY_MODULE_OPTIONS, type SecurityModuleOptions,
} from './security.module-definition';

/** 400: a `control_url` whose host is outside `RTP_ALLOWED_NODE_CIDRS`, or cannot be resolved. */
export class ControlUrlRefusedException extends BadRequestException {}

interface CacheEntry {
  until: number;
  addresses?: string[];
  error?: string;
}

const systemResolver: HostResolver = (name) => dns.lookup(name, { all: true, verbatim: true });

/**
 * Decides whether a registering node's `control_url` may be called by the pool: a node
 * must not turn the signaling tier into a proxy into the operator's network. With an
 * allow-list, the URL's host must be an IP inside it, or a name whose every address is
 * inside it; without one, every host passes (and no lookup is made).
 *
 * The check happens at registration. A name re-resolved later by the HTTP client may
 * answer differently (DNS rebinding): deployments that rely on the list register IP
 * literals (see SECURITY.md).
 */
@Injectable()
export class NodeUrlPolicy {
  private readonly allow: CidrAllowList;
  private readonly resolver: HostResolver;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Promise<CacheEntry>>();

  constructor(@Inject(SECURITY_MODULE_OPTIONS) options: SecurityModuleOptions) {
    const o = resolveSecurityOptions(options);
    this.allow = CidrAllowList.parse(o.allowedNodeCidrs.join(','));
    this.resolver = o.resolver ?? systemResolver;
    this.timeoutMs = o.resolveTimeoutMs;
    this.cacheMs = o.resolveCacheSec * 1000;
    this.cacheSize = o.resolveCacheSize;
  }

  /** Whether an allow-list is configured. */
  get restricted(): boolean {
    return this.allow.size > 0;
  }

  /** Throws {@link ControlUrlRefusedException} (400) when the URL's host is not allowed. */
  async check(controlUrl: string): Promise<void> {
    if (!this.restricted) return;
    let host: string;
    try {
      host = new URL(controlUrl).hostname.replace(/^\[|\]$/g, '');
    } catch {
      throw new ControlUrlRefusedException('control_url is not an absolute URL');
    }
    if (isIP(host)) {
      if (!this.allow.contains(host)) throw new ControlUrlRefusedException(`control_url host ${host} is outside the allowed node networks`);
      return;
    }
    const entry = await this.resolve(host);
    if (entry.error) throw new ControlUrlRefusedException(`control_url host ${host} ${entry.error}`);
    const outside = entry.addresses!.find((a) => !this.allow.contains(a));
    if (outside !== undefined) {
      throw new ControlUrlRefusedException(`control_url host ${host} resolves to ${outside}, outside the allowed node networks`);
    }
  }

  private async resolve(host: string): Promise<CacheEntry> {
    const key = host.toLowerCase();
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit;
    // Concurrent registrations of one name share one lookup.
    const running = this.pending.get(key);
    if (running) return running;
    const p = this.lookup(key).finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  private async lookup(host: string): Promise<CacheEntry> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), this.timeoutMs);
    });
    let entry: CacheEntry;
    try {
      const found = await Promise.race([this.resolver(host), timeout]);
      entry = found.length
        ? { until: Date.now() + this.cacheMs, addresses: found.map((a) => a.address) }
        : { until: Date.now() + this.cacheMs, error: 'does not resolve' };
    } catch (e) {
      // Failures are remembered briefly only: a name may start resolving at any time.
      const why = (e as Error).message === 'timeout' ? `did not resolve within ${this.timeoutMs} ms` : 'does not resolve';
      entry = { until: Date.now() + Math.min(this.cacheMs, 1_000), error: why };
    } finally {
      clearTimeout(timer);
    }
    this.remember(host, entry);
    return entry;
  }

  private remember(host: string, entry: CacheEntry): void {
    if (this.cacheMs <= 0) return;
    this.cache.delete(host);
    if (this.cache.size >= this.cacheSize) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(host, entry);
  }
}
