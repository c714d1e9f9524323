import type { INestApplication, Type } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/http/app.setup';
import { type AppConfig, loadAppConfig } from '../../src/config/app.config';
import type { Env } from '../../src/common/env';
import { createHttpAdapter } from '../../src/http/http-adapter';

export interface TestAppOptions {
  /** Environment for loadAppConfig (process.env is not read: tests are hermetic). */
  env?: Env;
  /** Adjust the testing module before compile (overrideProvider …). */
  customize?: (b: TestingModuleBuilder) => TestingModuleBuilder;
  /** Listen on 127.0.0.1:0 (needed when another process or app must reach it). @default false */
  listen?: boolean;
  /**
   * The HTTP platform. Wins over `env.RTP_HTTP_ADAPTER`. The default comes from
   * RTP_TEST_ADAPTER, which the jest project `e2e-fastify` sets: one set of tests, both adapters.
   * @default process.env.RTP_TEST_ADAPTER ?? 'express'
   */
  adapter?: 'express' | 'fastify';
}

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  /** Base URL when listening. */
  url: string;
  get<T>(token: Type<T> | symbol | string): T;
  /** Closes the app; idempotent. */
  close(): Promise<void>;
}

/**
 * The default test environment: short timeouts, no prune job (tests call prune themselves),
 * no background health probes (they would add requests to the fake nodes' logs; health
 * tests turn them on with RTP_HEALTH_INTERVAL_MS).
 */
export const TEST_ENV: Env = {
  SIP_CONTROL_HOST: '127.0.0.1',
  SIP_CONTROL_PORT: '0',
  RTP_CONTROL_TIMEOUT_MS: '500',
  RTP_PRUNE_INTERVAL_SEC: '0',
  RTP_HEALTH_INTERVAL_MS: '0',
  // No sweep for drain deadlines (it reads every node); the draining instance's timer still fires.
  RTP_DRAIN_CHECK_MS: '0',
  // One pino line per request would drown jest's output; logging tests set their own level.
  LOG_LEVEL: 'silent',
};

/** Builds the real AppModule from an environment, configured exactly as main.ts does. */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const adapter = opts.adapter ?? opts.env?.RTP_HTTP_ADAPTER ?? process.env.RTP_TEST_ADAPTER ?? 'express';
  const config = loadAppConfig({ ...TEST_ENV, ...opts.env, RTP_HTTP_ADAPTER: adapter });
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  if (opts.customize) builder = opts.customize(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes }), { logger: ['error'] });
  configureApp(app, { maxBodyBytes: config.maxBodyBytes, lean: config.httpLean });
  let url = '';
  try {
    if (opts.listen) {
      await app.listen(0, '127.0.0.1');
      url = await app.getUrl();
      url = url.replace('[::1]', '127.0.0.1');
    } else {
      await app.init();
      // Fastify loads its plugins (the static files of /docs) on ready(); listen() does it itself.
      if (config.httpAdapter === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
    }
  } catch (e) {
    // A failed start must not leave anything running (a Redis client reconnecting forever
    // would keep jest from exiting): close what was built, then report the failure.
    await app.close().catch(() => undefined);
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    app, config, url,
    get: <T>(token: Type<T> | symbol | string) => app.get<T>(token as never),
    // Idempotent: a second close (a suite's own plus the fixture's) must not close the app's clients twice.
    close: () => (closing ??= app.close()),
  };
}

/** One JSON request to a running app over real HTTP (fetch); the answer's status and parsed body. */
export async function callJson(t: TestApp, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(t.url + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
