// One copy: the seeded random source ships in rtp-pool/testing (src/testing).
export { seededRandom } from '../../src/testing/seeded-random';
