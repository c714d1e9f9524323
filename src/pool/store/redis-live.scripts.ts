/**
 * Lua scripts of {@link RedisPoolStore} for live calls (CONTRACT §5): the per-node call
 * index page, the migrate's compare-and-set. Same rules as redis-pool.scripts.ts: each
 * touches keys of ONE hash slot (see the key layout there).
 *
 * The per-node call index is the registry's `R bound:<nodeId>` zset (call id → expiresAt),
 * and `R exp` is the index of every call: both sit under the registry tag, beside the node
 * they count for, so one script reads a page of one node (or of all) in one slot. A zset is
 * ordered by (score, member), so a page is ordered by (expiresAt, call id) and its cursor
 * is that pair: positional by value, not by rank, so deletions between pages skip or repeat
 * nothing. A binding refreshed between pages (re-INVITE, migrate) gets a later expiresAt
 * and may show up again on a later page; none is ever missed.
 */
import { SET_LOAD } from './redis-node.scripts';

/**
 * KEYS: R bound:<nodeId> or R exp. ARGV: now, limit, cursorScore or '', cursorMember
 * → flat {member, score, …}: up to limit + 1 live entries after the cursor (the extra one
 * says more follow).
 */
export const INDEX_PAGE = `
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local cs, cm = ARGV[3], ARGV[4]
local min = '(' .. ARGV[1]
if cs ~= '' and tonumber(cs) > now then min = cs end
-- Expired entries go here too (a removed node's index is not swept).
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
local offset = 0
local chunk = limit + 1
while #out < 2 * (limit + 1) do
  local got = redis.call('ZRANGE', KEYS[1], min, '+inf', 'BYSCORE', 'LIMIT', offset, chunk, 'WITHSCORES')
  if #got == 0 then break end
  for i = 1, #got, 2 do
    local m, s = got[i], got[i + 1]
    -- Ties with the cursor's score: only members after the cursor's.
    if cs == '' or tonumber(s) ~= tonumber(cs) or m > cm then
      if #out < 2 * (limit + 1) then out[#out + 1] = m; out[#out + 1] = s end
    end
  end
  offset = offset + #got / 2
  if #got / 2 < chunk then break end
end
return out
`;

/**
 * Step 1 of swapBinding, the call's slot. KEYS: C b. ARGV: expectedNodeId, px, now,
 * field, value, …  →  {prevExpiresAt} when the live binding was on expectedNodeId and is
 * replaced, else false. The compare-and-set of a migrate: one key, atomic.
 */
export const SWAP_BINDING_CALL = `
local node = redis.call('HGET', KEYS[1], 'nodeId')
local exp = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if node ~= ARGV[1] or exp == nil or exp <= tonumber(ARGV[3]) then return false end
local prevExp = redis.call('HGET', KEYS[1], 'expiresAt')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return { prevExp }
`;

/**
 * Step 2 of swapBinding, the registry's slot. KEYS: R exp. ARGV: R, callId, fromNode,
 * prevExp, toNode, newExp  →  1. The call's index entries and one pending leg move from
 * the old node to the new one (versioned by score as the other registry steps).
 */
export const SWAP_BINDING_REGISTRY = `${SET_LOAD}
local r, callId, from, prevExp, to, exp = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local function zrem_if(k, member, score)
  local s = redis.call('ZSCORE', k, member)
  if s and tonumber(s) == tonumber(score) then redis.call('ZREM', k, member) end
end
zrem_if(r .. 'bound:' .. from, callId, prevExp)
local s = redis.call('ZSCORE', KEYS[1], callId)
if not s or tonumber(s) <= tonumber(exp) then redis.call('ZADD', KEYS[1], exp, callId) end
local old = r .. 'n:' .. from
if redis.call('EXISTS', old) == 1 then
  redis.call('HINCRBY', old, 'pendingLegs', -1)
  set_load(r, from)
end
local node = r .. 'n:' .. to
if redis.call('EXISTS', node) == 1 then
  redis.call('ZADD', r .. 'bound:' .. to, exp, callId)
  redis.call('HINCRBY', node, 'pendingLegs', 1)
  set_load(r, to)
end
return 1
`;

/** The scripts above, as ioredis custom commands (RedisLink defines them on every client). */
export const LIVE_SCRIPTS = {
  rtpIndexPage: { numberOfKeys: 1, lua: INDEX_PAGE },
  rtpSwapBindingCall: { numberOfKeys: 1, lua: SWAP_BINDING_CALL },
  rtpSwapBindingRegistry: { numberOfKeys: 1, lua: SWAP_BINDING_REGISTRY },
} as const;
