import { canonicalControlUrl, controlUrlProblem, normalizeControlUrl, parseControlUrls, publicControlUrl } from './control-urls';

describe('parseControlUrls (Go semantics)', () => {
  it('splits on commas, trims, drops trailing slashes and empty entries', () => {
    expect(parseControlUrls(' http://a:1/ ,, http://b:2//,', undefined)).toEqual(['http://a:1', 'http://b:2']);
  });
  it('falls back to the single URL when the list is empty or blank', () => {
    expect(parseControlUrls(undefined, 'http://c:3/')).toEqual(['http://c:3']);
    expect(parseControlUrls('   ', 'http://c:3')).toEqual(['http://c:3']);
  });
  it('prefers the list over the single URL', () => {
    expect(parseControlUrls('http://a:1', 'http://c:3')).toEqual(['http://a:1']);
  });
  it('returns no seeds when both are empty', () => {
    expect(parseControlUrls('', '')).toEqual([]);
    expect(parseControlUrls(undefined, undefined)).toEqual([]);
  });
  it('normalizes one URL', () => {
    expect(normalizeControlUrl('  http://x:9/// ')).toBe('http://x:9');
  });
});

describe('publicControlUrl', () => {
  it('uses the public URL when set, normalized', () => {
    expect(publicControlUrl(' https://rtp.example.org/ ', '10.0.0.5', 8090)).toBe('https://rtp.example.org');
  });
  it('builds http://<mediaIp>:<port> otherwise', () => {
    expect(publicControlUrl(undefined, '10.0.0.5', 8090)).toBe('http://10.0.0.5:8090');
    expect(publicControlUrl('', ' 10.0.0.6 ', 1)).toBe('http://10.0.0.6:1');
  });
  it('defaults the media IP to 127.0.0.1 and brackets IPv6', () => {
    expect(publicControlUrl(undefined, undefined, 8090)).toBe('http://127.0.0.1:8090');
    expect(publicControlUrl(undefined, '', 8091)).toBe('http://127.0.0.1:8091');
    expect(publicControlUrl(undefined, '::1', 8092)).toBe('http://[::1]:8092');
  });
});

describe('controlUrlProblem and canonicalControlUrl (a registering node\'s control_url)', () => {
  it.each([
    ['http://127.0.0.1:0', 'must have a port between 1 and 65535'],
    ['http://127.0.0.1:65536', 'must have a port between 1 and 65535'],
    ['http://h:99999/x', 'must have a port between 1 and 65535'],
    ['http:\\\\127.0.0.1:9000', 'must not contain backslashes'],
    ['http://127.0.0.1:9000\\x', 'must not contain backslashes'],
    ['http://127.0.0.1\u0000:9000', 'must not contain control characters'],
    ['http://127.0.\t0.1:9000', 'must not contain control characters'],
    ['http://h:1/\u0085', 'must not contain control characters'],
    ['http://0.0.0.0:9000', 'must not have the unspecified address 0.0.0.0 as host'],
    ['http://0:9000', 'must not have the unspecified address 0.0.0.0 as host'],
    ['http://[::]:9000', 'must not have the unspecified address [::] as host'],
    ['http://[0:0::0]:9000', 'must not have the unspecified address [::] as host'],
    ['http:127.0.0.1:9000', 'must be written as http://host or https://host'],
    ['http:/127.0.0.1:9000', 'must be written as http://host or https://host'],
    ['ftp://h:1', 'must use http or https'],
    ['/v1/legs', 'is not an absolute URL'],
    ['http://u:p@h:1', 'must not contain user-info'],
    ['http://h:1/?q', 'must not contain a query or fragment'],
  ])('refuses %j: %s', (url, why) => expect(controlUrlProblem(url)).toBe(why));

  it.each([
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000'],
    ['HTTP://Node-A.Example:80/', 'http://node-a.example'],
    ['https://h:443/base//', 'https://h/base'],
    ['http://h:08090', 'http://h:8090'],
    ['http://2130706433:1', 'http://127.0.0.1:1'],
    ['http://[0:0::1]:65535/', 'http://[::1]:65535'],
    ['http://h:1', 'http://h:1'],
  ])('accepts %j as %j', (url, canonical) => {
    expect(controlUrlProblem(url)).toBeUndefined();
    expect(canonicalControlUrl(url)).toBe(canonical);
    // Canonical is a fixed point.
    expect(canonicalControlUrl(canonical)).toBe(canonical);
  });
});
