import { internCodec, mediaIpOf } from './intern';

describe('mediaIpOf / internCodec', () => {
  it('a binding names the answer\'s media IP, the node\'s when the answer has none', () => {
    expect(mediaIpOf('10.0.12.134', '10.0.12.134')).toBe('10.0.12.134');
    expect(mediaIpOf('203.0.113.77', '10.0.12.134')).toBe('203.0.113.77');
    expect(mediaIpOf('', '10.0.12.134')).toBe('10.0.12.134');
    expect(mediaIpOf(undefined, '10.0.12.134')).toBe('10.0.12.134');
  });

  it('codec names come back unchanged, also past the table\'s size', () => {
    expect(internCodec(JSON.parse('"telephone-event/8000"') as string)).toBe('telephone-event/8000');
    for (let i = 0; i < 300; i++) expect(internCodec(`codec-${i}`)).toBe(`codec-${i}`);
  });
});
