import { normalizeControlUrl, parseControlUrls, publicControlUrl } from './control-urls';

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
