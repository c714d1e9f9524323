import { InvalidCursorException } from '../../contract/cursor';
import type { Binding } from '../core/pool.types';
import type { RedisKeys } from './redis-keys';
import type { RedisLink } from './redis-link';
import { encodeBinding } from './redis-pool.codec';

/**
 * The live-calls half of the Redis store (CONTRACT §5): pages of the per-node call index,
 * the migrate's compare-and-set, the migration claim. Scripts in redis-live.scripts.ts.
 */
export class RedisLiveCalls {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: RedisKeys,
    private readonly now: () => number,
    private readonly getBinding: (callId: string) => Promise<Binding | undefined>,
  ) {}

  /**
   * A page of the registry's per-node index (`bound:<nodeId>`, or `exp` for every call),
   * ordered by (expiresAt, call id); the cursor is `<expiresAt>:<callId>`. Each entry's
   * binding is then read from its own slot; an entry whose binding is gone (a registry step
   * not yet run) is skipped.
   */
  async bindingsOfNode(nodeId: string | undefined, limit: number, cursor?: string): Promise<{ bindings: Binding[]; next?: string }> {
    let cs = '';
    let cm = '';
    if (cursor !== undefined) {
      const m = /^(\d{1,16}):([\s\S]+)$/.exec(cursor);
      if (!m) throw new InvalidCursorException();
      [cs, cm] = [m[1], m[2]];
    }
    const key = nodeId === undefined ? this.keys.registry('exp') : this.keys.registry('bound:', nodeId);
    const flat = (await this.link.cmd('rtpIndexPage', [key], [this.now(), limit, cs, cm])) as string[];
    const entries: Array<[string, string]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i], flat[i + 1]]);
    const page = entries.slice(0, limit);
    const found = await Promise.all(page.map(([id]) => this.getBinding(id)));
    const bindings = found.filter((b): b is Binding => b !== undefined && (nodeId === undefined || b.nodeId === nodeId));
    const last = page[page.length - 1];
    return entries.length > limit && last ? { bindings, next: `${last[1]}:${last[0]}` } : { bindings };
  }

  /**
   * Two steps, as putBinding: the compare-and-set in the call's slot (one key: the
   * binding), acknowledged when `waitReplicas` is set (if not, swapped back and 503), then
   * the load hints and index in the registry's slot.
   */
  async swapBinding(callId: string, expectedNodeId: string, next: Binding): Promise<boolean> {
    const b = this.keys.call(callId, 'b');
    const now = this.now();
    const px = Math.max(1, Math.ceil(next.expiresAt - now));
    // With WAIT, a swap the replicas did not acknowledge is swapped back: keep what it replaces.
    const old = this.link.ackClient ? await this.getBinding(callId) : undefined;
    const undo = async () => {
      if (!old) return;
      const back = Math.max(1, Math.ceil(old.expiresAt - this.now()));
      await this.link.cmd('rtpSwapBindingCall', [b], [next.nodeId, back, this.now(), ...encodeBinding(old)]).catch(() => undefined);
    };
    const out = (await this.link.acked('rtpSwapBindingCall', [b], [expectedNodeId, px, now, ...encodeBinding(next)], undo)) as string[] | null;
    if (!out) return false;
    await this.link.cmd('rtpSwapBindingRegistry', [this.keys.registry('exp')], [
      this.keys.registryTag, callId, expectedNodeId, out[0], next.nodeId, next.expiresAt,
    ]).catch(() => undefined);
    return true;
  }

  async claimMigration(callId: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.link.run(() => this.link.client.set(this.keys.call(callId, 'migrate'), '1', 'PX', ttl, 'NX'))) === 'OK';
  }

  async releaseMigration(callId: string): Promise<void> {
    await this.link.run(() => this.link.client.del(this.keys.call(callId, 'migrate')));
  }
}
