import { healthReport } from './health-monitor.service';

describe('healthReport', () => {
  const base = { status: 'ok', node_id: 'n', active_legs: 4, media_ip: '10.0.0.7' };

  it('takes active_legs and media_ip; capacity and draining only when reported', () => {
    expect(healthReport(base)).toEqual({ activeLegs: 4, mediaIp: '10.0.0.7' });
    expect(healthReport({ ...base, capacity: 20, draining: true })).toEqual({ activeLegs: 4, mediaIp: '10.0.0.7', capacity: 20, reportedDraining: true });
    expect(healthReport({ ...base, capacity: null, draining: false })).toEqual({ activeLegs: 4, mediaIp: '10.0.0.7', capacity: null, reportedDraining: false });
  });

  it('leaves out what is malformed instead of storing it', () => {
    const odd = { ...base, media_ip: '  ', capacity: 0, draining: 'yes' } as unknown as Parameters<typeof healthReport>[0];
    expect(healthReport(odd)).toEqual({ activeLegs: 4 });
    const worse = { ...base, media_ip: 7, capacity: 2.5 } as unknown as Parameters<typeof healthReport>[0];
    expect(healthReport(worse)).toEqual({ activeLegs: 4 });
    expect(healthReport({ ...base, media_ip: 'x'.repeat(256) })).toEqual({ activeLegs: 4 });
  });
});
