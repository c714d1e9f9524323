/**
 * Lua scripts of {@link RedisPoolStore}. Each runs atomically in Redis, so every
 * read-then-write of the PoolStore contract is one script (one round trip), safe when
 * several signaling instances call it at once.
 *
 * Key layout (P = the prefix, passed as ARGV[1] where a script builds keys itself):
 * - `P n:<nodeId>`     hash: one node (see FIELD CODECS in redis-pool.store.ts)
 * - `P nodes`          zset: node id → seq (registration order; static seeds included)
 * - `P seen`           zset: dynamic node id → lastSeen (prune and the maxNodes count)
 * - `P seq`            counter for seq
 * - `P b:<callId>`     hash: one binding, PEXPIREd at its expiresAt
 * - `P bound:<nodeId>` zset: call id → expiresAt (bound count = ZCOUNT (now +inf)
 * - `P exp`            zset: call id → expiresAt, every binding (sweep)
 * - `P claim:<callId>` string, SET NX PX: the claim of a first prepare
 *
 * Not for Redis Cluster: scripts touch keys they derive from the prefix.
 */

/** Shared helper: a node's hash (flat) and its live bound count, or false. */
const NODE_ROW = `
local function node_row(p, id, now)
  local h = redis.call('HGETALL', p .. 'n:' .. id)
  if #h == 0 then return false end
  return { h, redis.call('ZCOUNT', p .. 'bound:' .. id, '(' .. now, '+inf') }
end
`;

/**
 * KEYS: n:id, nodes, seen, seq. ARGV: prefix, id, static(1|0), maxNodes (-1 = unbounded),
 * lastSeen, field, value, …  →  'created' | 'updated' | 'conflict' | 'full'
 */
export const UPSERT_NODE = `
local prev = redis.call('HGET', KEYS[1], 'static')
if prev == '1' and ARGV[3] ~= '1' then return 'conflict' end
if not prev and ARGV[3] ~= '1' then
  local max = tonumber(ARGV[4])
  if max >= 0 and redis.call('ZCARD', KEYS[3]) >= max then return 'full' end
end
if not prev then
  local seq = redis.call('INCR', KEYS[4])
  redis.call('ZADD', KEYS[2], seq, ARGV[2])
  redis.call('HSET', KEYS[1], 'seq', seq, 'healthy', '1', 'adminDrained', '0')
end
redis.call('HSET', KEYS[1], 'pendingLegs', '0', unpack(ARGV, 6))
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[3], ARGV[2])
else
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
end
if prev then return 'updated' end
return 'created'
`;

/**
 * KEYS: claim:callId, b:callId. ARGV: ttlMs, now  →  1 claimed, 0 refused. Refused while
 * claimed, and while the call has a live binding (a claimant that saw no binding an instant
 * before another instance wrote it must not place the call again).
 */
export const CLAIM_CALL = `
local e = tonumber(redis.call('HGET', KEYS[2], 'expiresAt'))
if e ~= nil and e > tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return 1 end
return 0
`;

/** ARGV: prefix, id, now  →  {hash, bound} | nil */
export const GET_NODE = `${NODE_ROW}
return node_row(ARGV[1], ARGV[2], ARGV[3])
`;

/**
 * KEYS: nodes. ARGV: prefix, now  →  one JSON string: [[hash, bound], …] in seq order
 * (an empty list may come back as "{}"). One string instead of a RESP array of every
 * field: ioredis decodes each bulk string on its own, and at 100 nodes (3,000 strings)
 * that decoding was two thirds of a prepare on the Redis store.
 */
export const LIST_NODES = `${NODE_ROW}
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = node_row(ARGV[1], id, ARGV[2])
  if row then out[#out + 1] = row end
end
return cjson.encode(out)
`;

/** KEYS: n:id, nodes, seen, bound:id. ARGV: id  →  'removed' | 'not-found' | 'static' */
export const REMOVE_NODE = `
local s = redis.call('HGET', KEYS[1], 'static')
if not s then return 'not-found' end
if s == '1' then return 'static' end
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 'removed'
`;

/**
 * KEYS: nodes, seen. ARGV: prefix, cutoff, now  →  [{hash, bound}, …] of the removed nodes.
 * Atomic: of several instances pruning at once, each silent node is removed (and
 * returned) exactly once.
 */
export const PRUNE_NODES = `${NODE_ROW}
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])) do
  local row = node_row(p, id, ARGV[3])
  local static = redis.call('HGET', p .. 'n:' .. id, 'static')
  if static ~= '1' then
    if row then out[#out + 1] = row end
    redis.call('DEL', p .. 'n:' .. id, p .. 'bound:' .. id)
    redis.call('ZREM', KEYS[1], id)
  end
  redis.call('ZREM', KEYS[2], id)
end
return out
`;

/** KEYS: n:id. ARGV: field, value, …  →  1 when the node exists (and was updated), else 0 */
export const HSET_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * KEYS: b:callId, claim:callId, exp. ARGV: prefix, callId, nodeId, expiresAt, px, isNew(1|0),
 * now, field, value, …  →  1. Writes the binding, drops the claim, moves the counts
 * exactly as MemoryPoolStore.putBinding does.
 */
export const PUT_BINDING = `
local p, callId, nodeId = ARGV[1], ARGV[2], ARGV[3]
local prevExp = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
local prevNode = redis.call('HGET', KEYS[1], 'nodeId')
local prevLive = prevExp ~= nil and prevExp > tonumber(ARGV[7])
if prevNode and prevNode ~= nodeId then redis.call('ZREM', p .. 'bound:' .. prevNode, callId) end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], callId)
local node = p .. 'n:' .. nodeId
if redis.call('EXISTS', node) == 1 then
  redis.call('ZADD', p .. 'bound:' .. nodeId, ARGV[4], callId)
  if ARGV[6] == '1' or not prevLive then redis.call('HINCRBY', node, 'pendingLegs', 1) end
end
return 1
`;

/** KEYS: b:callId. ARGV: now  →  the binding's hash after the update, or nil */
export const MARK_STARTED = `
local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if e == nil or e <= tonumber(ARGV[1]) then return false end
redis.call('HSET', KEYS[1], 'started', '1')
return redis.call('HGETALL', KEYS[1])
`;

/**
 * KEYS: b:callId, exp. ARGV: prefix, callId, now  →  the removed live binding's hash, or nil.
 * An expired binding found here is dropped too (only its bound count moves, as an expiry).
 */
export const DELETE_BINDING = `
local p, callId = ARGV[1], ARGV[2]
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return false end
local nodeId = redis.call('HGET', KEYS[1], 'nodeId')
local e = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], callId)
redis.call('ZREM', p .. 'bound:' .. nodeId, callId)
if e == nil or e <= tonumber(ARGV[3]) then return false end
local node = p .. 'n:' .. nodeId
if redis.call('EXISTS', node) == 1 then redis.call('HINCRBY', node, 'pendingLegs', -1) end
return h
`;

/**
 * KEYS: exp, nodes. ARGV: prefix, now, limit, trim(1|0)  →  how many bindings expired (≤ limit).
 * With trim, every node's bound zset also loses entries that expired (bindings whose key
 * Redis already dropped by its TTL).
 */
export const SWEEP_BINDINGS = `
local p, now = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local k = p .. 'b:' .. id
  local nodeId = redis.call('HGET', k, 'nodeId')
  if nodeId then redis.call('ZREM', p .. 'bound:' .. nodeId, id) end
  redis.call('DEL', k)
end
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
if ARGV[4] == '1' then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    redis.call('ZREMRANGEBYSCORE', p .. 'bound:' .. id, '-inf', now)
  end
end
return #ids
`;
