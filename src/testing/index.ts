// rtp-pool/testing: what a user's own tests need, as @nestjs/testing is to Nest.
// Needs @nestjs/testing (an optional peer dependency of rtp-pool).
export {
  FakeMediaNode, startFakeNodes, closedPort, TRICKLE_MAX_BYTES, type FakeNodeMode, type RecordedRequest,
} from './fake-media-node';
export { ManualClock } from './manual-clock';
export { seededRandom } from './seeded-random';
export {
  createTestingPool, TESTING_POOL_OPTIONS, type TestingPool, type TestingPoolOptions,
} from './testing-pool';
