import type { LookupAddress } from 'node:dns';
import { ControlUrlRefusedException, NodeUrlPolicy } from './node-url-policy';
import type { HostResolver, SecurityModuleOptions } from './security.module-definition';

/** A resolver answering from a table, counting lookups (the real one is exercised in test/security/security.e2e-spec.ts). */
function tableResolver(table: Record<string, string[] | Error | 'hang'>) {
  const calls: string[] = [];
  const resolver: HostResolver = async (name) => {
    calls.push(name);
    const a = table[name];
    if (a === 'hang') return new Promise<LookupAddress[]>(() => undefined);
    if (a instanceof Error || a === undefined) throw a ?? Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolver, calls };
}

const policy = (o: SecurityModuleOptions) => new NodeUrlPolicy(o);

describe('NodeUrlPolicy', () => {
  it('without a list: every URL passes and nothing is resolved', async () => {
    const { resolver, calls } = tableResolver({});
    const p = policy({ resolver });
    expect(p.restricted).toBe(false);
    await expect(p.check('http://169.254.169.254/')).resolves.toBeUndefined();
    await expect(p.check('http://unknown.example:9')).resolves.toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('IP hosts are checked without a lookup', async () => {
    const { resolver, calls } = tableResolver({});
    const p = policy({ allowedNodeCidrs: ['10.0.0.0/8', 'fd00::/8'], resolver });
    await expect(p.check('http://10.1.2.3:8090')).resolves.toBeUndefined();
    await expect(p.check('https://[fd00::5]:8443/base')).resolves.toBeUndefined();
    await expect(p.check('http://10.1.2.3.nip.io:1')).rejects.toThrow(ControlUrlRefusedException);
    await expect(p.check('http://127.0.0.1:8090')).rejects.toThrow('control_url host 127.0.0.1 is outside the allowed node networks');
    await expect(p.check('http://[::ffff:127.0.0.1]:1')).rejects.toThrow(/outside/);
    expect(calls).toEqual(['10.1.2.3.nip.io']);
  });

  it('a name passes only when every address it resolves to is inside', async () => {
    const { resolver } = tableResolver({ 'ok.media': ['10.0.0.1', '10.0.0.2'], 'mixed.media': ['10.0.0.1', '192.168.1.1'], 'v6.media': ['fd00::1'] });
    const p = policy({ allowedNodeCidrs: ['10.0.0.0/8', 'fd00::/8'], resolver });
    await expect(p.check('http://ok.media:1')).resolves.toBeUndefined();
    await expect(p.check('http://v6.media:1')).resolves.toBeUndefined();
    await expect(p.check('http://mixed.media:1')).rejects.toThrow('control_url host mixed.media resolves to 192.168.1.1, outside the allowed node networks');
    await expect(p.check('http://nxdomain.media:1')).rejects.toThrow('control_url host nxdomain.media does not resolve');
  });

  it('caches answers per name (case-insensitively) and shares a lookup in flight', async () => {
    const { resolver, calls } = tableResolver({ 'ok.media': ['10.0.0.1'] });
    const p = policy({ allowedNodeCidrs: ['10.0.0.0/8'], resolver });
    await Promise.all([p.check('http://ok.media:1'), p.check('http://OK.media:2'), p.check('http://ok.media:3')]);
    await p.check('http://ok.media:4');
    expect(calls).toEqual(['ok.media']);
  });

  it('remembers a failure briefly only', async () => {
    const table: Record<string, string[] | Error> = {};
    const { resolver, calls } = tableResolver(table);
    let now = 1_000_000;
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const p = policy({ allowedNodeCidrs: ['10.0.0.0/8'], resolver });
      await expect(p.check('http://late.media:1')).rejects.toThrow(/does not resolve/);
      table['late.media'] = ['10.0.0.9'];
      await expect(p.check('http://late.media:1')).rejects.toThrow(/does not resolve/);
      now += 1_001;
      await expect(p.check('http://late.media:1')).resolves.toBeUndefined();
      expect(calls).toHaveLength(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('a lookup that hangs is refused after resolveTimeoutMs', async () => {
    const { resolver } = tableResolver({ 'slow.media': 'hang' });
    const p = policy({ allowedNodeCidrs: ['10.0.0.0/8'], resolver, resolveTimeoutMs: 50 });
    const t0 = Date.now();
    await expect(p.check('http://slow.media:1')).rejects.toThrow('control_url host slow.media did not resolve within 50 ms');
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('keeps at most resolveCacheSize names', async () => {
    const table: Record<string, string[]> = {};
    for (let i = 0; i < 5; i++) table[`n${i}.media`] = ['10.0.0.1'];
    const { resolver, calls } = tableResolver(table);
    const p = policy({ allowedNodeCidrs: ['10.0.0.0/8'], resolver, resolveCacheSize: 2 });
    for (let i = 0; i < 5; i++) await p.check(`http://n${i}.media:1`);
    await p.check('http://n4.media:1'); // newest: cached
    await p.check('http://n0.media:1'); // evicted: looked up again
    expect(calls).toEqual(['n0.media', 'n1.media', 'n2.media', 'n3.media', 'n4.media', 'n0.media']);
  });

  it('refuses what is not a URL (the DTO refuses it first; the policy does not rely on that)', async () => {
    await expect(policy({ allowedNodeCidrs: ['10.0.0.0/8'] }).check('not a url')).rejects.toThrow('control_url is not an absolute URL');
  });
});
