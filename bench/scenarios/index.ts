import type { Scenario } from '../lib/context';
import { s1 } from './s1-prepare-http';
import { s2 } from './s2-inprocess';
import { s3 } from './s3-lifecycle';
import { s4 } from './s4-heartbeats';
import { s5 } from './s5-failover';
import { s6 } from './s6-balance';
import { s7 } from './s7-memory';
import { s8 } from './s8-http-front';
import { s9 } from './s9-redis-wait';
import { s10 } from './s10-sip-edge';
import { s11 } from './s11-events-dashboard';

/** Every scenario, in report order. */
export const SCENARIOS: Scenario[] = [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11];
