import type { Binding } from '../pool.types';
import type {
  BindExpectation, BindOutcome, ClaimFailure, ClaimResult, DeleteCallResult, Tombstone,
} from './pool-store.interface';
import { DELETE_BINDING, PUT_BINDING } from './redis-pool.scripts';

/**
 * The CONTRACT §7 half of the Redis store: claim tokens, claim-failure records, tombstones,
 * compare-and-delete, leases, the bindings of one node. Every read-then-write is one script.
 *
 * Keys (P = prefix), beside those of redis-pool.scripts.ts:
 * - `P claim:<callId>`  string: the holder's token (SET NX PX)
 * - `P f:<callId>`      string: `{token, status, message}` of a holder that gave up (PX)
 * - `P t:<callId>`      hash: tombstone `nodeId`, `controlUrl`, `claim` of a DELETE (PX)
 * - `P lease:<name>`    string: the lease holder (SET NX PX)
 * For Redis Cluster, the per-call keys go under the call's tag and the lease under the
 * registry's, as the rest of the layout.
 */

/** KEYS: claim, b, f. ARGV: ttlMs, now, token, waitingFor ('' = none) → {1} | {0, holder} | {2} bound | {3, failureJson} */
export const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder} end
local e = tonumber(redis.call('HGET', KEYS[2], 'expiresAt'))
if e ~= nil and e > tonumber(ARGV[2]) then return {2} end
if ARGV[4] ~= '' then
  local f = redis.call('GET', KEYS[3])
  if f and cjson.decode(f).token == ARGV[4] then return {3, f} end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[1])
return {1}
`;

/** KEYS: claim, f. ARGV: token, failureJson ('' = none), failureTtlMs */
export const GIVE_UP_CLAIM = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return 1
`;

/**
 * KEYS: b, claim, exp, t. ARGV: mode ('claim' | 'same'), expected claim token or nodeId,
 * expected createdAt, then PUT_BINDING's ARGV → 'bound' | 'deleted' | 'lost'.
 */
export const BIND_CALL = `
local mode, want, createdAt = ARGV[1], ARGV[2], ARGV[3]
if mode == 'claim' then
  if redis.call('GET', KEYS[2]) ~= want then
    if redis.call('HGET', KEYS[4], 'claim') == want then return 'deleted' end
    return 'lost'
  end
  redis.call('DEL', KEYS[4])
else
  local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
  local live = e ~= nil and e > tonumber(ARGV[10])
  if not live or redis.call('HGET', KEYS[1], 'nodeId') ~= want or redis.call('HGET', KEYS[1], 'createdAt') ~= createdAt then
    return 'deleted'
  end
end
local function put(KEYS, ARGV)
${PUT_BINDING}
end
put({KEYS[1], KEYS[2], KEYS[3]}, {unpack(ARGV, 4)})
return 'bound'
`;

/** KEYS: b, exp, claim, t. ARGV: prefix, callId, now, tombstoneTtlMs → {binding|false, overtookClaim, tombstone|false} */
export const DELETE_CALL = `
local function del(KEYS, ARGV)
${DELETE_BINDING}
end
local node = redis.call('HGET', KEYS[1], 'nodeId')
local url = redis.call('HGET', KEYS[1], 'controlUrl')
local h = del({KEYS[1], KEYS[2]}, {ARGV[1], ARGV[2], ARGV[3]})
local claim = redis.call('GET', KEYS[3])
if claim then redis.call('DEL', KEYS[3]) end
if h or claim then
  redis.call('DEL', KEYS[4])
  local f = {}
  if h then f[#f + 1] = 'nodeId'; f[#f + 1] = node; f[#f + 1] = 'controlUrl'; f[#f + 1] = url end
  if claim then f[#f + 1] = 'claim'; f[#f + 1] = claim end
  redis.call('HSET', KEYS[4], 'callId', ARGV[2], unpack(f))
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
  return {h or false, claim and 1 or 0, false}
end
local t = redis.call('HGETALL', KEYS[4])
if #t == 0 then return {false, 0, false} end
return {false, 0, t}
`;

/** KEYS: b, exp. ARGV: prefix, callId, now, nodeId, createdAt, version ('' = any) → 1 removed | 0 */
export const UNBIND_IF = `
if redis.call('HGET', KEYS[1], 'nodeId') ~= ARGV[4] or redis.call('HGET', KEYS[1], 'createdAt') ~= ARGV[5] then return 0 end
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[6] then return 0 end
local function del(KEYS, ARGV)
${DELETE_BINDING}
end
if del({KEYS[1], KEYS[2]}, {ARGV[1], ARGV[2], ARGV[3]}) then return 1 end
return 0
`;

/** KEYS: lease. ARGV: holder, ttlMs → 1 held | 0 */
export const ACQUIRE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: lease. ARGV: holder */
export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

export type ClaimReply = [number, string?];

export function decodeClaim(r: ClaimReply): ClaimResult {
  if (r[0] === 1) return { claimed: true };
  if (r[0] === 2) return { claimed: false, bound: true };
  if (r[0] === 3) {
    const f = JSON.parse(r[1]!) as { status: number; message: string };
    return { claimed: false, failure: { status: f.status, message: f.message } };
  }
  return { claimed: false, holder: r[1] };
}

export function encodeFailure(token: string, f?: ClaimFailure): string {
  return f ? JSON.stringify({ token, status: f.status, message: f.message }) : '';
}

export function bindArgs(expect: BindExpectation): [string, string, string] {
  return 'claim' in expect ? ['claim', expect.claim, ''] : ['same', expect.nodeId, String(expect.createdAt)];
}

export function decodeBindOutcome(r: unknown): BindOutcome {
  return r === 'bound' || r === 'deleted' ? r : 'lost';
}

export function decodeDeleteCall(
  r: [string[] | null, number, string[] | null], decodeBinding: (h: Record<string, string>) => Binding,
): DeleteCallResult {
  const [flat, overtook, tomb] = r;
  const out: DeleteCallResult = { overtookClaim: overtook === 1 };
  if (flat) out.binding = decodeBinding(pairs(flat));
  if (tomb) {
    const t = pairs(tomb);
    const earlier: Tombstone = { callId: t.callId };
    if (t.nodeId) earlier.nodeId = t.nodeId;
    if (t.controlUrl) earlier.controlUrl = t.controlUrl;
    if (t.claim) earlier.claim = t.claim;
    out.earlier = earlier;
  }
  return out;
}

function pairs(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}
