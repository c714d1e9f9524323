import { PoolHooks, type PoolHookMap } from '../core/pool.hooks';
import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now: number;
  let events: PoolHooks;
  let circuitEvents: PoolHookMap['circuit'][0][];
  let healthEvents: PoolHookMap['health'][0][];
  let cb: CircuitBreaker;

  beforeEach(() => {
    now = 1_000_000;
    events = new PoolHooks();
    circuitEvents = [];
    healthEvents = [];
    events.on('circuit', (e) => circuitEvents.push(e));
    events.on('health', (e) => healthEvents.push(e));
    cb = new CircuitBreaker(10_000, events, () => now);
  });

  it('starts closed and passes every call', () => {
    expect(cb.state('a')).toBe('closed');
    expect(cb.isCallable('a')).toBe(true);
    expect(cb.tryPass('a')).toBe(true);
    expect(cb.tryPass('a')).toBe(true);
    expect(circuitEvents).toEqual([]);
  });

  it('opens at once on one failure and refuses calls until the reset time', () => {
    cb.recordFailure('a', 'no answer within 500 ms');
    expect(cb.state('a')).toBe('open');
    expect(cb.isCallable('a')).toBe(false);
    expect(cb.tryPass('a')).toBe(false);
    now += 9_999;
    expect(cb.tryPass('a')).toBe(false);
    expect(circuitEvents).toEqual([{ nodeId: 'a', state: 'open' }]);
    expect(healthEvents).toEqual([{ nodeId: 'a', healthy: false, reason: 'circuit open: no answer within 500 ms' }]);
    expect(cb.openNodes()).toEqual(['a']);
  });

  it('lets exactly one trial through after the reset time; its success closes the circuit', () => {
    cb.recordFailure('a', 'x');
    now += 10_000;
    expect(cb.isCallable('a')).toBe(true);
    expect(cb.isCallable('a')).toBe(true); // planning does not consume the trial
    expect(cb.tryPass('a')).toBe(true);
    expect(cb.state('a')).toBe('half_open');
    expect(cb.tryPass('a')).toBe(false);
    expect(cb.isCallable('a')).toBe(false);
    cb.recordSuccess('a');
    expect(cb.state('a')).toBe('closed');
    expect(cb.tryPass('a')).toBe(true);
    expect(circuitEvents.map((e) => e.state)).toEqual(['open', 'half_open', 'closed']);
    expect(healthEvents.map((e) => e.healthy)).toEqual([false, true]);
  });

  it('re-opens when the trial fails, with a fresh reset time', () => {
    cb.recordFailure('a', 'x');
    now += 10_000;
    expect(cb.tryPass('a')).toBe(true);
    now += 500;
    cb.recordFailure('a', 'y');
    expect(cb.state('a')).toBe('open');
    now += 9_999;
    expect(cb.tryPass('a')).toBe(false);
    now += 1;
    expect(cb.tryPass('a')).toBe(true);
    expect(circuitEvents.map((e) => e.state)).toEqual(['open', 'half_open', 'open', 'half_open']);
    // Health went false once: re-opening after a trial is not a new health transition.
    expect(healthEvents).toHaveLength(1);
  });

  it('a further failure while open restarts the reset clock without a new event', () => {
    cb.recordFailure('a', 'x');
    now += 8_000;
    cb.recordFailure('a', 'x');
    now += 8_000;
    expect(cb.tryPass('a')).toBe(false);
    expect(circuitEvents).toHaveLength(1);
  });

  it('a trial that never reports back does not keep the node out for ever', () => {
    cb.recordFailure('a', 'x');
    now += 10_000;
    expect(cb.tryPass('a')).toBe(true);
    now += 10_000;
    expect(cb.tryPass('a')).toBe(true);
  });

  it('success on a closed circuit and forget are silent; circuits are per node', () => {
    cb.recordSuccess('a');
    cb.recordFailure('b', 'x');
    expect(cb.tryPass('a')).toBe(true);
    cb.forget('b');
    expect(cb.state('b')).toBe('closed');
    expect(circuitEvents).toHaveLength(1);
  });
});
