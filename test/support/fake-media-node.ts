// One copy: the fake media node ships in rtp-pool/testing (src/testing); the suites import it from here.
export * from '../../src/testing/fake-media-node';
