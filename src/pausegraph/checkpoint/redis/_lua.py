"""The Lua scripts: every operation that must be atomic is one script, one round trip.

Redis runs a script without interleaving other clients' commands, so each
script is all-or-nothing for readers, and only plain commands every Redis
since 6.2 has are used (no modules). Scripts receive their fixed keys in
``KEYS``; the keys of a thread's namespaces are derived in Lua from the key
bases stored in the thread's hash (see ``_layout``), which is what lets a
thread be deleted or expired without scanning the keyspace.

Expiry (the saver's ``ttl``): ``settle`` gives every key of a thread the same
absolute expiry when a run ends, or removes it when the thread runs again;
``join_expiry`` gives keys created later the thread's remaining lifetime.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pausegraph.checkpoint.redis._layout import NS_SUFFIXES

__all__ = [
    "DELETE_THREAD",
    "HISTORY_PAGE",
    "LEASE_ACQUIRE",
    "LEASE_RELEASE",
    "LIST_THREADS",
    "LOAD",
    "LOAD_LEASED",
    "PRUNE_APPLY",
    "PRUNE_READ",
    "REMEMBER_REQUEST",
    "SAVE",
    "SAVE_WRITES",
    "SCRIPTS",
    "SETUP",
    "WAITING_PAGE",
    "Script",
]


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script and its SHA1 (run with ``EVALSHA``, falling back to ``EVAL``)."""

    name: str
    text: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.text.encode()).hexdigest())


_SUFFIXES = "{" + ", ".join(f"'{s}'" for s in NS_SUFFIXES) + "}"

_PRELUDE = (
    r"""
local SUFFIXES = """
    + _SUFFIXES
    + r"""

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Every key of a thread: its hash, its requests, and each namespace's keys.
local function thread_keys(meta, req)
  local out = {meta, req}
  local fields = redis.call('HGETALL', meta)
  for i = 1, #fields, 2 do
    if string.byte(fields[i], 1) == 110 then  -- 'n': a namespace
      for _, s in ipairs(SUFFIXES) do out[#out + 1] = fields[i + 1] .. s end
    end
  end
  return out
end

local function join_expiry(meta, keys)
  local left = redis.call('PTTL', meta)
  if left > 0 then
    for _, k in ipairs(keys) do redis.call('PEXPIRE', k, left) end
  end
end

-- mode 'f': the run ended, expire the thread's keys ttl ms from now;
-- mode 'r': the thread is live again, remove any expiry.
local function settle(meta, req, threads, tid, mode, ttl)
  if mode == 'f' then
    local at = now_ms() + tonumber(ttl)
    for _, k in ipairs(thread_keys(meta, req)) do redis.call('PEXPIREAT', k, at) end
    redis.call('ZADD', threads, at, tid)
  else
    if redis.call('PTTL', meta) >= 0 then
      for _, k in ipairs(thread_keys(meta, req)) do redis.call('PERSIST', k) end
    end
    redis.call('ZADD', threads, '+inf', tid)
  end
end

local function drop_waiting(meta, index, entries, tid)
  local at = redis.call('HMGET', meta, 'w', 'g')
  if at[1] then
    redis.call('ZREM', index, at[1])
    redis.call('ZREM', at[2], at[1])
    redis.call('HDEL', entries, tid)
    redis.call('HDEL', meta, 'w', 'g')
  end
end

-- Store writes (task, channel, value triples from ARGV[first]) against cid;
-- a write replaces the one with the same task and channel, keeping its place.
local function put_writes(wr, wo, cid, first)
  local prefix = cid .. '\0'
  local count = nil
  for i = first, #ARGV, 3 do
    local tail = ARGV[i] .. '\0' .. ARGV[i + 1]
    if redis.call('HSET', wr, prefix .. tail, ARGV[i + 2]) == 1 then
      if count == nil then
        count = redis.call('ZLEXCOUNT', wo, '[' .. prefix, '(' .. cid .. '\1')
      end
      redis.call('ZADD', wo, 0, prefix .. string.format('%08x', count) .. '\0' .. tail)
      count = count + 1
    end
  end
end

-- Append 'task \0 channel', value pairs of cid's writes to out, in write order.
local function collect_writes(out, wr, wo, cid)
  local prefix = cid .. '\0'
  local members = redis.call('ZRANGEBYLEX', wo, '[' .. prefix, '(' .. cid .. '\1')
  if #members == 0 then return end
  local skip = #prefix + 10
  local fields = {}
  for i, m in ipairs(members) do fields[i] = prefix .. string.sub(m, skip) end
  for i = 1, #fields, 1000 do
    local last = math.min(#fields, i + 999)
    local vals = redis.call('HMGET', wr, unpack(fields, i, last))
    for j = i, last do
      out[#out + 1] = string.sub(members[j], skip)
      out[#out + 1] = vals[j - i + 1]
    end
  end
end

-- Append to out the 'field', value pairs of the values a layout 2 record (see
-- _record) reads from vals, but not those already in seen. A layout 1 record
-- names none: the saver fetches its values itself.
local function collect_values(out, vals, cid, rec, seen)
  if string.byte(rec, 1) ~= 193 then return end
  local stop = string.find(rec, '\193', 2, true)
  if not stop then return end  -- damaged: the saver says so
  local items, n = {}, 0
  for item in string.gmatch(string.sub(rec, 2, stop - 1), '([^%z]*)%z') do
    n = n + 1
    items[n] = item
  end
  local fields = {}
  local function want(field)
    if not seen[field] then
      seen[field] = true
      fields[#fields + 1] = field
    end
  end
  for i = 1, n - 2, 3 do
    local key, version = items[i], items[i + 1]
    if string.find(key, '%', 1, true) then
      key = (string.gsub((string.gsub(key, '%%00', '\0')), '%%25', '%%'))
    end
    if version == '' then version = cid end
    want(key .. '\0' .. version)
    for c = 1, (tonumber(items[i + 2]) or 0) do
      want(key .. '\31' .. c .. '\0' .. version)
    end
  end
  for i = 1, #fields, 1000 do
    local last = math.min(#fields, i + 999)
    local found = redis.call('HMGET', vals, unpack(fields, i, last))
    for j = i, last do
      out[#out + 1] = fields[j]
      out[#out + 1] = found[j - i + 1]
    end
  end
end

-- {cid, record, values, write key, write value, ...} of cid; record is false
-- when missing, values collect_values's pairs (none when seen is nil).
local function entry_of(cps, vals, wr, wo, cid, seen)
  local rec = redis.call('HGET', cps, cid)
  local values = {}
  if rec and seen then collect_values(values, vals, cid, rec, seen) end
  local out = {cid, rec, values}
  collect_writes(out, wr, wo, cid)
  return out
end

-- entry_of cid ('' = the newest) with its values, or false when it does not exist.
local function load_entry(ids, cps, vals, wr, wo, cid)
  if cid == '' then
    local newest = redis.call('ZREVRANGEBYLEX', ids, '+', '-', 'LIMIT', 0, 1)
    if #newest == 0 then return false end
    cid = newest[1]
  end
  local entry = entry_of(cps, vals, wr, wo, cid, {})
  if not entry[2] then return false end
  return entry
end

-- Take the lease for owner for ms milliseconds when free or already owner's.
local function take_lease(key, owner, ms)
  local holder = redis.call('GET', key)
  if holder and holder ~= owner then return false end
  redis.call('SET', key, owner, 'PX', ms)
  return true
end

-- Give the lease back if owner ('' = nobody) holds it.
local function give_lease(key, owner)
  if owner ~= '' and redis.call('GET', key) == owner then redis.call('DEL', key) end
end

local function hset_args(key, from, to)
  for i = from, to, 1000 do
    redis.call('HSET', key, unpack(ARGV, i, math.min(to, i + 999)))
  end
end
"""
)


def _script(name: str, body: str) -> Script:
    return Script(name, _PRELUDE + body)


SAVE = _script(
    "save",
    r"""
-- KEYS: meta, requests, ids, cps, vals, writes, worder, threads, waiting, entries, lease
-- ARGV: tid, ns field, ns base, cid, record, mode ('' in a subgraph), ttl ms,
--       parent id or '', lease owner to release or '',
--       2 * blobs, blob field/value pairs..., write triples...
local meta, ids, cid = KEYS[1], KEYS[3], ARGV[4]
redis.call('HSET', meta, ARGV[2], ARGV[3])
redis.call('ZADD', ids, 0, cid)
redis.call('HSET', KEYS[4], cid, ARGV[5])
local blobs = tonumber(ARGV[10])
if blobs > 0 then hset_args(KEYS[5], 11, 10 + blobs) end
local parent, first = ARGV[8], 11 + blobs
if first <= #ARGV and parent ~= '' and redis.call('ZSCORE', ids, parent) then
  put_writes(KEYS[6], KEYS[7], parent, first)
end
if ARGV[6] == '' then
  redis.call('ZADD', KEYS[8], 'NX', '+inf', ARGV[1])
  join_expiry(meta, {KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]})
else
  drop_waiting(meta, KEYS[9], KEYS[10], ARGV[1])
  settle(meta, KEYS[2], KEYS[8], ARGV[1], ARGV[6], ARGV[7])
end
give_lease(KEYS[11], ARGV[9])
return 1
""",
)

SAVE_WRITES = _script(
    "save_writes",
    r"""
-- KEYS: meta, ids, writes, worder, waiting, entries, graph index, lease
-- ARGV: tid, cid, waiting op ('', 'del', 'set'), member, entry,
--       lease owner to release or '', write triples...
give_lease(KEYS[8], ARGV[6])
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end
if #ARGV >= 7 then
  put_writes(KEYS[3], KEYS[4], ARGV[2], 7)
  join_expiry(KEYS[1], {KEYS[3], KEYS[4]})
end
if ARGV[3] ~= '' then
  drop_waiting(KEYS[1], KEYS[5], KEYS[6], ARGV[1])
  if ARGV[3] == 'set' then
    redis.call('ZADD', KEYS[5], 0, ARGV[4])
    redis.call('ZADD', KEYS[7], 0, ARGV[4])
    redis.call('HSET', KEYS[6], ARGV[1], ARGV[5])
    redis.call('HSET', KEYS[1], 'w', ARGV[4], 'g', KEYS[7])
  end
end
return 1
""",
)

LOAD = _script(
    "load",
    r"""
-- KEYS: ids, cps, vals, writes, worder. ARGV: cid ('' = the newest).
-- Returns load_entry's reply (the values included) or nil.
return load_entry(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1])
""",
)

LOAD_LEASED = _script(
    "load_leased",
    r"""
-- KEYS: ids, cps, vals, writes, worder, lease. ARGV: cid ('' = the newest), owner, ms.
-- Returns 0 (another owner holds the lease), 1 (taken; nothing to load), or
-- LOAD's reply (taken). One script: nothing can run between the two.
if not take_lease(KEYS[6], ARGV[2], ARGV[3]) then return 0 end
return load_entry(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1]) or 1
""",
)

HISTORY_PAGE = _script(
    "history_page",
    r"""
-- KEYS: ids, cps, vals, writes, worder.
-- ARGV: before ('' = from the newest), count, '1' to include the values.
-- Returns a list of entry_of's replies, newest first; a value read by
-- several of them comes once, with the first.
local top = '+'
if ARGV[1] ~= '' then top = '(' .. ARGV[1] end
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], top, '-', 'LIMIT', 0, tonumber(ARGV[2]))
local seen = nil
if ARGV[3] == '1' then seen = {} end
local out = {}
for i, cid in ipairs(ids) do
  out[i] = entry_of(KEYS[2], KEYS[3], KEYS[4], KEYS[5], cid, seen)
end
return out
""",
)

DELETE_THREAD = _script(
    "delete_thread",
    r"""
-- KEYS: meta, requests, threads, waiting, entries. ARGV: tid.
drop_waiting(KEYS[1], KEYS[4], KEYS[5], ARGV[1])
local keys = thread_keys(KEYS[1], KEYS[2])
for i = 1, #keys, 500 do redis.call('UNLINK', unpack(keys, i, math.min(#keys, i + 499))) end
redis.call('ZREM', KEYS[3], ARGV[1])
return #keys
""",
)

WAITING_PAGE = _script(
    "waiting_page",
    r"""
-- KEYS: index, entries. ARGV: start ('-' or '(' .. cursor), count.
-- Returns {member, entry, member, entry, ...}; entry is nil if it vanished.
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, m in ipairs(members) do
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', KEYS[2], string.sub(m, string.find(m, '|', 1, true) + 1))
end
return out
""",
)

LEASE_ACQUIRE = _script(
    "lease_acquire",
    r"""
-- KEYS: lease. ARGV: owner, ms. Take it when free or already ours.
if take_lease(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
return 0
""",
)

LEASE_RELEASE = _script(
    "lease_release",
    r"""
-- KEYS: lease. ARGV: owner.
give_lease(KEYS[1], ARGV[1])
return 1
""",
)

REMEMBER_REQUEST = _script(
    "remember_request",
    r"""
-- KEYS: requests, meta. ARGV: key, cid. The first request stored wins.
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
join_expiry(KEYS[2], {KEYS[1]})
return 1
""",
)

LIST_THREADS = _script(
    "list_threads",
    r"""
-- KEYS: threads. Forgets threads whose keys expired, returns the others.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())
return redis.call('ZRANGE', KEYS[1], 0, -1)
""",
)

PRUNE_READ = _script(
    "prune_read",
    r"""
-- KEYS: ids, cps. Returns {id, header, id, header, ...}, newest first.
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], '+', '-')
local out = {}
for _, cid in ipairs(ids) do
  out[#out + 1] = cid
  out[#out + 1] = redis.call('HGET', KEYS[2], cid)
end
return out
""",
)

PRUNE_APPLY = _script(
    "prune_apply",
    r"""
-- KEYS: ids, cps, vals, writes, worder.
-- ARGV: count and newest id when read (else -1: retry), n, ids to delete, blob fields.
if redis.call('ZCARD', KEYS[1]) ~= tonumber(ARGV[1]) then return -1 end
local newest = redis.call('ZREVRANGEBYLEX', KEYS[1], '+', '-', 'LIMIT', 0, 1)[1]
if newest ~= ARGV[2] then return -1 end
local n = tonumber(ARGV[3])
for i = 4, 3 + n do
  local cid = ARGV[i]
  redis.call('ZREM', KEYS[1], cid)
  redis.call('HDEL', KEYS[2], cid)
  local found = {}
  collect_writes(found, KEYS[4], KEYS[5], cid)
  for j = 1, #found, 2 do redis.call('HDEL', KEYS[4], cid .. '\0' .. found[j]) end
  redis.call('ZREMRANGEBYLEX', KEYS[5], '[' .. cid .. '\0', '(' .. cid .. '\1')
end
for i = 4 + n, #ARGV, 1000 do
  redis.call('HDEL', KEYS[3], unpack(ARGV, i, math.min(#ARGV, i + 999)))
end
return n
""",
)

SETUP = _script(
    "setup",
    r"""
-- KEYS: layout. ARGV: this layout version.
-- Returns {the store's layout version, INFO server}. A new store, or one of an
-- older layout (it still loads), is marked with this version.
local v = redis.call('GET', KEYS[1])
if not v or (tonumber(v) and tonumber(v) < tonumber(ARGV[1])) then
  redis.call('SET', KEYS[1], ARGV[1])
  v = ARGV[1]
end
return {v, redis.call('INFO', 'server')}
""",
)

SCRIPTS = (
    SAVE,
    SAVE_WRITES,
    LOAD,
    LOAD_LEASED,
    HISTORY_PAGE,
    DELETE_THREAD,
    WAITING_PAGE,
    LEASE_ACQUIRE,
    LEASE_RELEASE,
    REMEMBER_REQUEST,
    LIST_THREADS,
    PRUNE_READ,
    PRUNE_APPLY,
    SETUP,
)
"""Every script (run by SHA; the first run on a server sends the text once)."""
