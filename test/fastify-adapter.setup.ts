// setupFiles of the jest project `e2e-fastify` (jest.config.js): createTestApp builds every
// app on Fastify, so the one set of e2e tests runs on both adapters.
process.env.RTP_TEST_ADAPTER = 'fastify';
