import { Logger } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { sleep } from '../../common/sleep';
import { waitUntil } from '../../../test/support/concurrency';
import { cronProblem } from './cron-expression';
import { JobScheduler } from './job-scheduler';

describe('JobScheduler', () => {
  let m: TestingModule;
  let jobs: JobScheduler;
  let registry: SchedulerRegistry;

  beforeEach(async () => {
    m = await Test.createTestingModule({ imports: [ScheduleModule.forRoot()], providers: [JobScheduler] }).compile();
    await m.init();
    jobs = m.get(JobScheduler);
    registry = m.get(SchedulerRegistry);
  });
  afterEach(() => m.close());

  it('registers an interval job in SchedulerRegistry and runs it', async () => {
    let ticks = 0;
    jobs.start('t', { everyMs: 10 }, () => ticks++);
    expect(registry.doesExist('interval', 't')).toBe(true);
    await sleep(60);
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('a throwing tick is logged and the job keeps running', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    let ticks = 0;
    jobs.start('t', { everyMs: 10 }, () => {
      ticks++;
      throw new Error('boom');
    });
    await sleep(60);
    expect(ticks).toBeGreaterThanOrEqual(2);
    expect(error).toHaveBeenCalledWith('job t failed: boom');
    error.mockRestore();
  });

  it('logs a streak of the same failure once, a new message again, and the first success after it', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const outcomes = ['store unavailable', 'store unavailable', 'store unavailable', 'boom', 'ok', 'ok'];
    let i = 0;
    jobs.start('t', { everyMs: 5 }, () => {
      const o = outcomes[Math.min(i++, outcomes.length - 1)];
      if (o !== 'ok') throw new Error(o);
    });
    await waitUntil(() => i >= outcomes.length, 2_000);
    jobs.stop('t');
    expect(error.mock.calls.map((c) => c[0])).toEqual(['job t failed: store unavailable', 'job t failed: boom (4 failed runs so far)']);
    expect(log.mock.calls.map((c) => c[0])).toContain('job t ran again after 4 failed run(s)');
    error.mockRestore();
    log.mockRestore();
  });

  it('never overlaps a tick that is still running', async () => {
    let running = 0;
    let most = 0;
    jobs.start('t', { everyMs: 5 }, async () => {
      most = Math.max(most, ++running);
      await sleep(30);
      running--;
    });
    await sleep(100);
    expect(most).toBe(1);
  });

  it('runs a cron expression with seconds as a CronJob in SchedulerRegistry', async () => {
    let ticks = 0;
    jobs.start('c', { cron: '* * * * * *' }, () => ticks++);
    expect(registry.getCronJob('c').isActive).toBe(true);
    await sleep(1_100);
    expect(ticks).toBeGreaterThanOrEqual(1);
  });

  it('refuses a bad cron expression naming the job', () => {
    expect(() => jobs.start('c', { cron: 'every minute' }, () => 0)).toThrow(/^job c: must be a cron expression with seconds/);
  });

  it('stops every job it started at shutdown', async () => {
    jobs.start('i', { everyMs: 1_000 }, () => 0);
    jobs.start('c', { cron: '*/30 * * * * *' }, () => 0);
    const cron = registry.getCronJob('c');
    await m.close();
    expect([registry.doesExist('interval', 'i'), registry.doesExist('cron', 'c'), cron.isActive]).toEqual([false, false, false]);
    expect(jobs.isRunning('i')).toBe(false);
  });
});

describe('cronProblem', () => {
  it.each(['*/15 * * * * *', '0 0 * * * *', '@hourly'])('accepts %s', (e) => expect(cronProblem(e)).toBeUndefined());
  it.each(['*/15 * * * *', '99 * * * * *', 'x y z a b c', ''])('refuses %j', (e) => expect(cronProblem(e)).toEqual(expect.any(String)));
});
