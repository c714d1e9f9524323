import type { Binding } from '../core/pool.types';
import { isPoolErrorCode } from '../../contract/pool-error';
import { WRITE_BINDING } from './redis-pool.scripts';
import type {
  BindExpectation, BindOutcome, ClaimFailure, ClaimResult, DeleteCallResult, Tombstone,
} from '../core/pool-store.interface';

/**
 * The CONTRACT §7 half of the Redis store: claim tokens, claim-failure records, tombstones,
 * compare-and-delete, leases. Every script touches the keys of one hash slot (Cluster):
 *
 * Calls — `C` = `{P call:<callId>}` (the call's own tag, as `C b` and `C claim`):
 * - `C claim`   string: the holder's token (SET NX PX)
 * - `C f`       string: `{token, code, message}` of a holder that gave up (PX)
 * - `C t`       hash: tombstone of a DELETE: `nodeId`, `controlUrl`, `claim` (PX)
 * Registry — `R` = `{P}`:
 * - `R lease:<name>`  string: the lease holder (SET NX PX)
 *
 * A binding change keeps the store's two steps (the call's slot, then the registry's load
 * hints): the call-slot scripts here answer what PUT_BINDING_CALL / DELETE_BINDING_CALL do,
 * so the store runs the same registry step after them.
 */

/**
 * KEYS: C claim, C b, C f. ARGV: ttlMs, now, token, waitingFor ('' = none)
 * → {1} | {2, binding fields} bound | {0, holder} | {3, failureJson}. A bound call answers
 * with its binding, so a prepare reads binding and claim in one round trip. The failure of
 * the holder waited for is shared even if someone else (a left leg's delete) holds it now.
 */
export const CLAIM = `
local e = tonumber(redis.call('HGET', KEYS[2], 'expiresAt'))
if e ~= nil and e > tonumber(ARGV[2]) then return {2, redis.call('HGETALL', KEYS[2])} end
if ARGV[4] ~= '' then
  local f = redis.call('GET', KEYS[3])
  if f and cjson.decode(f).token == ARGV[4] then return {3, f} end
end
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder} end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[1])
return {1}
`;

/** KEYS: C claim, C f. ARGV: token, failureJson ('' = none), failureTtlMs */
export const GIVE_UP_CLAIM = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return 1
`;

/**
 * Step 1 of bindCall, the call's slot. KEYS: C b, C claim, C t. ARGV: mode ('claim' |
 * 'same'), claim token or nodeId, createdAt, px, now, field, value, …
 * → {'bound', prevNode, prevExp, prevLive} | {'deleted'} | {'lost'}
 */
export const BIND_CALL = `${WRITE_BINDING}
local mode, want = ARGV[1], ARGV[2]
if mode == 'claim' then
  if redis.call('GET', KEYS[2]) ~= want then
    if redis.call('HGET', KEYS[3], 'claim') == want then return {'deleted'} end
    return {'lost'}
  end
  redis.call('DEL', KEYS[3])
else
  local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
  if e == nil or e <= tonumber(ARGV[5]) or redis.call('HGET', KEYS[1], 'nodeId') ~= want
    or redis.call('HGET', KEYS[1], 'createdAt') ~= ARGV[3] then
    return {'deleted'}
  end
end
local prevNode, prevExp, live = write_binding(ARGV[4], ARGV[5], 6)
return {'bound', prevNode, prevExp, live}
`;

/**
 * Step 1 of deleteCall, the call's slot. KEYS: C b, C claim, C t. ARGV: now, tombstoneTtlMs,
 * hold token ('' = none), hold ttlMs → {live, hash | false, overtookClaim (1|0), earlier
 * tombstone | false}. A new tombstone without a binding (a claim overtaken) keeps the earlier
 * one's node; a live binding removed leaves the call claimed under the hold token.
 */
export const DELETE_CALL = `
local h = redis.call('HGETALL', KEYS[1])
local live = 0
if #h > 0 then
  local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
  if e ~= nil and e > tonumber(ARGV[1]) then live = 1 end
end
local node = redis.call('HGET', KEYS[1], 'nodeId')
local url = redis.call('HGET', KEYS[1], 'controlUrl')
if #h > 0 then redis.call('DEL', KEYS[1]) end
local claim = redis.call('GET', KEYS[2])
if claim then redis.call('DEL', KEYS[2]) end
local t = redis.call('HGETALL', KEYS[3])
if live == 1 or claim then
  local tNode = redis.call('HGET', KEYS[3], 'nodeId')
  local tUrl = redis.call('HGET', KEYS[3], 'controlUrl')
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'at', ARGV[1])
  if live == 1 then redis.call('HSET', KEYS[3], 'nodeId', node, 'controlUrl', url)
  elseif tNode then
    redis.call('HSET', KEYS[3], 'nodeId', tNode)
    if tUrl then redis.call('HSET', KEYS[3], 'controlUrl', tUrl) end
  end
  if claim then redis.call('HSET', KEYS[3], 'claim', claim) end
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
if live == 1 and ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
return {live, (#h > 0) and h or false, claim and 1 or 0, (#t > 0) and t or false}
`;

/** Step 1 of unbindIf. KEYS: C b. ARGV: now, nodeId, createdAt, version ('' = any) → {live, hash} | false */
export const UNBIND_IF = `
if redis.call('HGET', KEYS[1], 'nodeId') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'createdAt') ~= ARGV[3] then return false end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[4] then return false end
local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if e == nil or e <= tonumber(ARGV[1]) then return false end
local h = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return {1, h}
`;

/** KEYS: R lease:name. ARGV: holder, ttlMs → 1 held | 0 */
export const ACQUIRE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: R lease:name. ARGV: holder */
export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/** The scripts above as ioredis custom commands (registered beside the store's own). */
export const CALL_STATE_SCRIPTS = {
  rtpClaim: { numberOfKeys: 3, lua: CLAIM },
  rtpGiveUpClaim: { numberOfKeys: 2, lua: GIVE_UP_CLAIM },
  rtpBindCall: { numberOfKeys: 3, lua: BIND_CALL },
  rtpDeleteCall: { numberOfKeys: 3, lua: DELETE_CALL },
  rtpUnbindIf: { numberOfKeys: 1, lua: UNBIND_IF },
  rtpAcquireLease: { numberOfKeys: 1, lua: ACQUIRE_LEASE },
  rtpReleaseLease: { numberOfKeys: 1, lua: RELEASE_LEASE },
} as const;

export type ClaimReply = [1] | [2, string[]] | [0 | 3, string];

export function decodeClaim(r: ClaimReply, decodeBinding: (h: Record<string, string>) => Binding): ClaimResult {
  if (r[0] === 1) return { claimed: true };
  if (r[0] === 2) return { claimed: false, bound: true, binding: decodeBinding(pairs(r[1])) };
  if (r[0] === 3) {
    const f = JSON.parse(r[1]) as { code?: unknown; message: string };
    // A record without a known code (written by an instance of an older version, which kept
    // an HTTP status) is read as a node failure: the waiting prepare fails, as the holder's did.
    return { claimed: false, failure: { code: isPoolErrorCode(f.code) ? f.code : 'RTP_NODE_FAILED', message: f.message } };
  }
  return { claimed: false, holder: r[1] };
}

export function encodeFailure(token: string, f?: ClaimFailure): string {
  return f ? JSON.stringify({ token, code: f.code, message: f.message }) : '';
}

export function bindArgs(expect: BindExpectation): [string, string, string] {
  return 'claim' in expect ? ['claim', expect.claim, ''] : ['same', expect.nodeId, String(expect.createdAt)];
}

export function decodeBindOutcome(r: unknown): BindOutcome {
  const k = (r as string[])[0];
  return k === 'bound' || k === 'deleted' ? k : 'lost';
}

/** What step 1 of deleteCall answered. */
export type DeleteCallReply = [number, string[] | null, number, string[] | null];

export function decodeDeleteCall(
  callId: string, r: DeleteCallReply, decodeBinding: (h: Record<string, string>) => Binding,
): DeleteCallResult {
  const [live, flat, overtook, tomb] = r;
  const out: DeleteCallResult = { overtookClaim: overtook === 1 };
  if (flat && live === 1) out.binding = decodeBinding(pairs(flat));
  if (tomb) {
    const t = pairs(tomb);
    const earlier: Tombstone = { callId };
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
