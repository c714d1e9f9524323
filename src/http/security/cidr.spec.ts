import { CidrAllowList, parseCidr, parseCidrList } from './cidr';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    [' 192.0.2.7 ', { address: '192.0.2.7', prefix: 32, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['[::1]', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
  ])('%s', (text, want) => expect(parseCidr(text)).toEqual(want));

  it.each(['', 'x', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', 'localhost/8', '10.0.0/8', '1.2.3.4/ 8'])(
    'refuses %j', (text) => expect(() => parseCidr(text)).toThrow(/not an IP address or CIDR block|invalid prefix length/));

  it('parses lists, ignoring empty items', () => {
    expect(parseCidrList(undefined)).toEqual([]);
    expect(parseCidrList(' , 10.0.0.0/8,, ::1 ,').map((c) => `${c.address}/${c.prefix}`)).toEqual(['10.0.0.0/8', '::1/128']);
  });
});

describe('CidrAllowList', () => {
  const list = CidrAllowList.parse('10.0.0.0/8,192.0.2.7,fd00::/8');
  it.each([
    ['10.0.0.0', true], ['10.255.255.255', true], ['11.0.0.0', false], ['9.255.255.255', false],
    ['192.0.2.7', true], ['192.0.2.8', false], ['fd12::1', true], ['fe80::1', false], ['[fd00::1]', true],
    // IPv4-mapped IPv6 is checked as the IPv4 address it maps.
    ['::ffff:10.1.2.3', true], ['::ffff:a01:203', true], ['::ffff:11.1.2.3', false],
    ['localhost', false], ['', false], ['10.0.0.1.5', false],
  ])('%s → %s', (ip, inside) => expect(list.contains(ip)).toBe(inside));

  it('an empty list contains nothing and says so', () => {
    const empty = CidrAllowList.parse('');
    expect(empty.size).toBe(0);
    expect(empty.contains('127.0.0.1')).toBe(false);
  });

  it('prints as address/prefix', () => expect(String(list)).toBe('10.0.0.0/8,192.0.2.7/32,fd00::/8'));
});
