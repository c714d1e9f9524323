/**
 * Lua scripts of {@link RedisPoolStore}. Each runs atomically in Redis and touches keys of
 * ONE hash slot only, so the same scripts run on one server, behind Sentinel, and on a
 * Redis Cluster.
 *
 * Key layout (P = the prefix; `{…}` is the hash tag that decides the slot):
 *
 * Registry — one tag, one slot, `R` = `{P}`:
 * - `R n:<nodeId>`     hash: one node (see FIELD CODECS in redis-pool.store.ts)
 * - `R nodes`          zset: node id → seq (registration order; static seeds included)
 * - `R seen`           zset: dynamic node id → lastSeen (prune and the maxNodes count)
 * - `R seq`            counter for seq
 * - `R bound:<nodeId>` zset: call id → expiresAt; bound count = ZCOUNT (now +inf).
 *                      This is also the per-node call index (calls of a node in one read,
 *                      paged by redis-live.scripts.ts); it outlives a removed node, whose
 *                      calls stay bound, and its expired entries go when a page reads them.
 * - `R exp`            zset: call id → expiresAt, every binding (sweep)
 * - `R load`           zset: node id → effective load (activeLegs + pendingLegs, at least 0),
 *                      kept by every script that changes either (SET_LOAD): least-loaded
 *                      selection reads the lightest few nodes (LIGHTEST) instead of all.
 *
 * Calls — one tag per call id, `C` = `{P call:<callId>}` (spread over the cluster):
 * - `C b`              hash: one binding, PEXPIREd at its expiresAt
 * - `C claim`          string, SET NX PX: the claim of a first prepare
 *
 * A binding change is two scripts: the call's own (authoritative: routing reads only
 * it), then the registry's (load hints: the node's bound zset, `exp`, pendingLegs). The
 * registry step removes a zset entry only when its score is the expiresAt it was added
 * with (an entry is versioned by its score), so a late or repeated step never undoes a
 * newer binding's entry. See docs/redis-production.md, "Key layout".
 *
 * Scripts that build registry keys from ARGV (node_row) only build keys under the tag
 * of their declared KEYS, so they stay in the declared slot.
 */

import { SET_LOAD } from './redis-node.scripts';

export * from './redis-node.scripts';

/**
 * Writes the call's binding hash (KEYS[1]) from ARGV[from..] as field, value pairs, with a TTL
 * of \`px\` ms, and drops its claim (KEYS[2]). Returns what it replaced: the previous nodeId
 * or '', expiresAt or '', and whether that binding was still live at \`now\` (1|0). Shared by
 * putBinding and bindCall (redis-call-state.ts).
 */
export const WRITE_BINDING = `
local function write_binding(px, now, from)
  local prevExp = redis.call('HGET', KEYS[1], 'expiresAt')
  local prevNode = redis.call('HGET', KEYS[1], 'nodeId')
  local live = 0
  if prevExp and tonumber(prevExp) > tonumber(now) then live = 1 end
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], unpack(ARGV, from))
  redis.call('PEXPIRE', KEYS[1], px)
  return prevNode or '', prevExp or '', live
end
`;

/**
 * Step 1 of putBinding, the call's slot. KEYS: C b, C claim. ARGV: px, now, field, value, …
 * →  {previous nodeId or '', previous expiresAt or '', previous live (1|0)}.
 * Writes the binding (the authoritative record) and drops the claim.
 */
export const PUT_BINDING_CALL = `${WRITE_BINDING}
return { write_binding(ARGV[1], ARGV[2], 3) }
`;

/** Removes `member` from zset `k` only when its score is `score` (the version it was added with). */
const ZREM_IF = `
local function zrem_if(k, member, score)
  local s = redis.call('ZSCORE', k, member)
  if s and tonumber(s) == tonumber(score) then redis.call('ZREM', k, member) end
end
`;

/**
 * Step 2 of putBinding, the registry's slot. KEYS: R exp. ARGV: R, callId, nodeId,
 * expiresAt, isNew(1|0), prevNode, prevExp, prevLive(1|0)  →  1. Moves the counts exactly
 * as MemoryPoolStore.putBinding does. Repeating it changes nothing but pendingLegs.
 */
export const PUT_BINDING_REGISTRY = `${ZREM_IF}${SET_LOAD}
local r, callId, nodeId, exp = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local prevNode, prevExp = ARGV[6], ARGV[7]
if prevNode ~= '' and prevNode ~= nodeId then zrem_if(r .. 'bound:' .. prevNode, callId, prevExp) end
redis.call('ZADD', KEYS[1], exp, callId)
local node = r .. 'n:' .. nodeId
if redis.call('EXISTS', node) == 1 then
  redis.call('ZADD', r .. 'bound:' .. nodeId, exp, callId)
  if ARGV[5] == '1' or ARGV[8] ~= '1' then
    redis.call('HINCRBY', node, 'pendingLegs', 1)
    set_load(r, nodeId)
  end
end
return 1
`;

/**
 * Undo of step 1 of a first putBinding that could not be acknowledged. KEYS: C b. ARGV:
 * nodeId, expiresAt  →  1 when the binding was still this one and is gone, else 0.
 */
export const UNDO_PUT_BINDING = `
if redis.call('HGET', KEYS[1], 'nodeId') == ARGV[1] and redis.call('HGET', KEYS[1], 'expiresAt') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** KEYS: C b. ARGV: now, nodeId ('' = any), version ('' = any)  →  the binding's hash after the update, or nil */
export const MARK_STARTED = `
local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if e == nil or e <= tonumber(ARGV[1]) then return false end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'nodeId') ~= ARGV[2] then return false end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[3] then return false end
redis.call('HSET', KEYS[1], 'started', '1')
return redis.call('HGETALL', KEYS[1])
`;

/**
 * Step 1 of deleteBinding, the call's slot. KEYS: C b. ARGV: now  →  {live(1|0), hash} of
 * the removed binding, or nil. Exactly one of concurrent deletes gets it.
 */
export const DELETE_BINDING_CALL = `
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return false end
local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
redis.call('DEL', KEYS[1])
local live = 0
if e ~= nil and e > tonumber(ARGV[1]) then live = 1 end
return { live, h }
`;

/**
 * Step 2 of deleteBinding, the registry's slot. KEYS: R exp. ARGV: R, callId, nodeId,
 * expiresAt, live(1|0)  →  1. Drops the call's entries (only the version it was added
 * with) and, for a live binding, one pending leg of its node (an expiry moves only the
 * bound count, which the zset already did).
 */
export const DELETE_BINDING_REGISTRY = `${ZREM_IF}${SET_LOAD}
local r, callId, nodeId, exp = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
zrem_if(KEYS[1], callId, exp)
zrem_if(r .. 'bound:' .. nodeId, callId, exp)
if ARGV[5] == '1' then
  local node = r .. 'n:' .. nodeId
  if redis.call('EXISTS', node) == 1 then
    redis.call('HINCRBY', node, 'pendingLegs', -1)
    set_load(r, nodeId)
  end
end
return 1
`;

/**
 * Undo of step 1 of a deleteBinding that could not be acknowledged: puts the binding back
 * unless the call has been bound again meanwhile. KEYS: C b. ARGV: px, field, value, …  →  1 | 0
 */
export const RESTORE_BINDING = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS: R exp, R nodes. ARGV: R, now, limit, trim(1|0)  →  how many bindings expired (≤ limit).
 * The binding hashes themselves (other slots) go by their own PEXPIRE. With trim, every
 * node's bound zset also loses the entries that expired.
 */
export const SWEEP_BINDINGS = `
local r, now = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
if ARGV[4] == '1' then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    redis.call('ZREMRANGEBYSCORE', r .. 'bound:' .. id, '-inf', now)
  end
end
return #ids
`;
