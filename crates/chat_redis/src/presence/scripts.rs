//! The Lua scripts of presence. Each runs atomically in Redis, so that of two sockets of
//! one person opening at once exactly one sees itself as the first, and of the last two
//! closing at once exactly one sees itself as the last (what PostgreSQL's store gets from
//! an advisory lock).
//!
//! Every script takes the key prefix as `ARGV[1]` and builds its keys from it and from
//! what a session holds (the layout is in the crate docs). Expiry scores are Redis's
//! `TIME` in milliseconds; a session is live while its score is greater than now.

use redis::Script;

/// What every script shares: the clock, the keys of a session's place and indexes, and
/// writing or forgetting a session everywhere. A session's fields `h` are, in order:
/// node, account, room ('' for a stream), user key, user ('' for none).
const COMMON: &str = r#"
local P = ARGV[1]
local function int(n) return string.format('%d', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function session_key(id) return P .. 'presence:session:' .. id end
local function node_key(node) return P .. 'presence:node:' .. node end
local EXPIRY = P .. 'presence:expiry'
local function place_key(h)
  local room = h[3]
  if room == '' then room = '-' end
  return P .. 'presence:place:' .. h[2] .. ':' .. room .. ':' .. h[4]
end
-- The index listing the session for online_in_room, and its entry there; nil for a
-- stream with no user (it can be nobody's member).
local function index_of(id, h)
  if h[3] ~= '' then
    return P .. 'presence:room:' .. h[2] .. ':' .. h[3], id .. ':' .. h[4]
  end
  if h[5] ~= '' then
    return P .. 'presence:streams:' .. h[2], id .. ':' .. h[5] .. ':' .. h[4]
  end
  return nil, nil
end
local function user_index(account, user)
  return P .. 'presence:user:' .. account .. ':' .. user
end
local function read(id)
  return redis.call('HMGET', session_key(id), 'node', 'account', 'room', 'key', 'user')
end
-- Every key outlives the sessions it holds by GRACE_MS, then expires by itself (its time
-- to live only ever grows): the keys of a deployment whose nodes are all gone, which no
-- heartbeat sweeps any more, do not stay.
local GRACE_MS = 60000
local function outlive(key, expires, now)
  local ms = expires - now + GRACE_MS
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
-- Sets the session's expiry in every set that lists it, and the keys' time to live.
local function keep(id, h, expires)
  local score = int(expires)
  local now = now_ms()
  local keys = {session_key(id), node_key(h[1]), EXPIRY, place_key(h)}
  redis.call('SADD', node_key(h[1]), id)
  redis.call('ZADD', EXPIRY, score, id)
  redis.call('ZADD', place_key(h), score, id)
  local index, entry = index_of(id, h)
  if index then
    redis.call('ZADD', index, score, entry)
    keys[#keys + 1] = index
  end
  if h[5] ~= '' then
    redis.call('ZADD', user_index(h[2], h[5]), score, id)
    keys[#keys + 1] = user_index(h[2], h[5])
  end
  for _, key in ipairs(keys) do outlive(key, expires, now) end
end
-- Removes the session from everywhere.
local function forget(id, h)
  redis.call('DEL', session_key(id))
  redis.call('SREM', node_key(h[1]), id)
  redis.call('ZREM', EXPIRY, id)
  redis.call('ZREM', place_key(h), id)
  local index, entry = index_of(id, h)
  if index then redis.call('ZREM', index, entry) end
  if h[5] ~= '' then redis.call('ZREM', user_index(h[2], h[5]), id) end
end
"#;

/// ARGV: prefix, id, node, account, room ('' for a stream), user key, user ('' for none),
/// time-to-live (ms). Records the session (or renews it, when the same id comes again for
/// the same person and place: a retry) and answers how many live sessions the person has
/// in the place, this one counted; -1 when the id names another session (nothing changed).
const OPEN: &str = r#"
local id = ARGV[2]
local h = {ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]}
local ttl = tonumber(ARGV[8])
local old = read(id)
if old[1] then
  if old[2] ~= h[2] or old[3] ~= h[3] or old[4] ~= h[4] or old[5] ~= h[5] then
    return -1
  end
  if old[1] ~= h[1] then redis.call('SREM', node_key(old[1]), id) end
end
local now = now_ms()
redis.call('HSET', session_key(id), 'node', h[1], 'account', h[2], 'room', h[3],
  'key', h[4], 'user', h[5])
keep(id, h, now + ttl)
local live = redis.call('ZCOUNT', place_key(h), '(' .. int(now), '+inf')
-- A session opened already expired (no time to live) still counts itself, once.
if ttl <= 0 then live = live + 1 end
return live
"#;

/// ARGV: prefix, id. Forgets the session and answers how many live sessions its person
/// still has in its place (0 for an unknown id).
const CLOSE: &str = r#"
local id = ARGV[2]
local h = read(id)
if not h[1] then return 0 end
forget(id, h)
return redis.call('ZCOUNT', place_key(h), '(' .. int(now_ms()), '+inf')
"#;

/// ARGV: prefix, node, time-to-live (ms), cursor, batch. Renews one batch (an `SSCAN`
/// step) of the node's sessions, the expired ones included (their sockets are still
/// open), and answers the next cursor ('0': done). Batches keep each script short: Redis
/// runs nothing else while a script runs.
const RENEW: &str = r#"
local node = ARGV[2]
local expires = now_ms() + tonumber(ARGV[3])
local page = redis.call('SSCAN', node_key(node), ARGV[4], 'COUNT', ARGV[5])
for _, id in ipairs(page[2]) do
  local h = read(id)
  if h[1] == node then
    keep(id, h, expires)
  elseif not h[1] then
    redis.call('SREM', node_key(node), id)
  end
end
return page[1]
"#;

/// ARGV: prefix, batch. Forgets up to a batch of expired sessions, of any node (those of
/// nodes that died), and answers how many it looked at.
const SWEEP: &str = r#"
local ids = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', int(now_ms()), 'LIMIT', 0,
  tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local h = read(id)
  if h[1] then forget(id, h) else redis.call('ZREM', EXPIRY, id) end
end
return #ids
"#;

/// ARGV: prefix, account, room. Answers the live entries of the room's sockets
/// (`{id}:{key}`) and of the account's user streams (`{id}:{user}:{key}`); which streams'
/// users belong to the room is the caller's to ask.
const ONLINE_IN_ROOM: &str = r#"
local after = '(' .. int(now_ms())
return {
  redis.call('ZRANGEBYSCORE', P .. 'presence:room:' .. ARGV[2] .. ':' .. ARGV[3], after, '+inf'),
  redis.call('ZRANGEBYSCORE', P .. 'presence:streams:' .. ARGV[2], after, '+inf')
}
"#;

/// ARGV: prefix, account, then user ids. Answers, for each user in order, 1 when they
/// have a live session, else 0.
const ONLINE_USERS: &str = r#"
local after = '(' .. int(now_ms())
local online = {}
for i = 3, #ARGV do
  local live = redis.call('ZCOUNT', user_index(ARGV[2], ARGV[i]), after, '+inf')
  if live > 0 then online[#online + 1] = 1 else online[#online + 1] = 0 end
end
return online
"#;

/// The scripts, each hashed once (`EVALSHA`, loaded again when Redis forgot it).
#[derive(Debug)]
pub(super) struct Scripts {
    pub(super) open: Script,
    pub(super) close: Script,
    pub(super) renew: Script,
    pub(super) sweep: Script,
    pub(super) online_in_room: Script,
    pub(super) online_users: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let with_common = |body: &str| Script::new(&format!("{COMMON}{body}"));
        Self {
            open: with_common(OPEN),
            close: with_common(CLOSE),
            renew: with_common(RENEW),
            sweep: with_common(SWEEP),
            online_in_room: with_common(ONLINE_IN_ROOM),
            online_users: with_common(ONLINE_USERS),
        }
    }
}
