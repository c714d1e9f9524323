// setupFiles of the jest project `e2e-fastify` (jest.config.js): createTestApp builds every
// app on Fastify, and service processes the suites spawn (dist/main.js, with the test's
// environment) start on Fastify too: one set of e2e tests, both adapters.
process.env.RTP_TEST_ADAPTER = 'fastify';
process.env.RTP_HTTP_ADAPTER = 'fastify';
