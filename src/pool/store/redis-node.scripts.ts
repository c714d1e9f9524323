/**
 * Lua scripts of {@link RedisPoolStore} on the registry's nodes (`R n:<nodeId>`, `R nodes`,
 * `R seen`, `R seq`, `R load`): register, read, list, remove, prune. The key layout and the
 * rules every script keeps are described in redis-pool.scripts.ts.
 */

/** Shared helper: a node's hash (flat) and its live bound count, or false. `r` = the registry tag. */
const NODE_ROW = `
local function node_row(r, id, now)
  local h = redis.call('HGETALL', r .. 'n:' .. id)
  if #h == 0 then return false end
  return { h, redis.call('ZCOUNT', r .. 'bound:' .. id, '(' .. now, '+inf') }
end
`;

/**
 * Shared helper: puts node `id`'s effective load into the `load` zset (`r` = the registry
 * tag), as `effectiveLoad` computes it; a node without a hash is left to its removal.
 */
export const SET_LOAD = `
local function set_load(r, id)
  local h = redis.call('HMGET', r .. 'n:' .. id, 'activeLegs', 'pendingLegs')
  if not h[1] then return end
  local l = (tonumber(h[1]) or 0) + (tonumber(h[2]) or 0)
  if l < 0 then l = 0 end
  redis.call('ZADD', r .. 'load', l, id)
end
`;

/**
 * KEYS: R n:id, R nodes, R seen, R seq. ARGV: R, id, static(1|0), maxNodes (-1 = unbounded),
 * lastSeen, field, value, …  →  'created' | 'updated' | 'conflict' | 'full'
 */
export const UPSERT_NODE = `${SET_LOAD}
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
set_load(ARGV[1], ARGV[2])
if prev then return 'updated' end
return 'created'
`;

/** KEYS: R n:id. ARGV: R, id, now  →  {hash, bound} | nil */
export const GET_NODE = `${NODE_ROW}
return node_row(ARGV[1], ARGV[2], ARGV[3])
`;

/**
 * KEYS: R nodes. ARGV: R, now  →  one JSON string: [[hash, bound], …] in seq order (an
 * empty list may come back as "{}"). One string instead of a RESP array of every field:
 * ioredis decodes each bulk string on its own, and at 100 nodes (3,000 strings) that
 * decoding was two thirds of a prepare on the Redis store.
 */
export const LIST_NODES = `${NODE_ROW}
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = node_row(ARGV[1], id, ARGV[2])
  if row then out[#out + 1] = row end
end
return cjson.encode(out)
`;

/**
 * KEYS: R load, R nodes. ARGV: R, now, count  →  one JSON string: [complete(1|0), [[hash,
 * bound], …]]: the `count` lightest nodes in (load, id) order, and whether that is every
 * node. An index that does not hold as many nodes as the registry (nodes written by a
 * version without it) is rebuilt first.
 */
export const LIGHTEST = `${NODE_ROW}${SET_LOAD}
local n = redis.call('ZCARD', KEYS[2])
if redis.call('ZCARD', KEYS[1]) ~= n then
  redis.call('DEL', KEYS[1])
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do set_load(ARGV[1], id) end
end
local count = tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, count - 1)) do
  local row = node_row(ARGV[1], id, ARGV[2])
  if row then out[#out + 1] = row end
end
local complete = 0
if redis.call('ZCARD', KEYS[1]) <= count then complete = 1 end
return cjson.encode({ complete, out })
`;

/** KEYS: R n:id, R nodes, R seen, R bound:id, R load. ARGV: id  →  'removed' | 'not-found' | 'static' */
export const REMOVE_NODE = `
local s = redis.call('HGET', KEYS[1], 'static')
if not s then return 'not-found' end
if s == '1' then return 'static' end
-- KEYS[4] (the node's call index) stays: its calls stay bound and listable (GET /v1/calls?node_id=).
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 'removed'
`;

/**
 * KEYS: R nodes, R seen. ARGV: R, cutoff, now  →  [{hash, bound}, …] of the removed nodes.
 * Atomic: of several instances pruning at once, each silent node is removed (and
 * returned) exactly once.
 */
export const PRUNE_NODES = `${NODE_ROW}
local r = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])) do
  local row = node_row(r, id, ARGV[3])
  local static = redis.call('HGET', r .. 'n:' .. id, 'static')
  if static ~= '1' then
    if row then out[#out + 1] = row end
    -- The node's call index stays with its still-bound calls (GET /v1/calls?node_id=).
    redis.call('DEL', r .. 'n:' .. id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', r .. 'load', id)
  end
  redis.call('ZREM', KEYS[2], id)
end
return out
`;

/** KEYS: R n:id. ARGV: R, id, field, value, …  →  1 when the node exists (and was updated), else 0 */
export const HSET_IF_EXISTS = `${SET_LOAD}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
set_load(ARGV[1], ARGV[2])
return 1
`;
