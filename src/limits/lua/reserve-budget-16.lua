--[[
  Reserves amounts against up to 8 budget counters, all or nothing, in one round trip. Each reservation is a lease:
  reservations past their expiry (their replica died before settling) are released first, so they stop counting.

  KEYS[i]      (i = 1..8) budget counter hash: fields spent, reserved (integer units: micro-USD or tokens) and
               r:<reservation id> = that reservation's amount while it is unsettled
  KEYS[8 + i]  (i = 1..8) counter i's leases: sorted set of reservation ids scored by their expiry (ms since the epoch)
               Unused slots carry placeholder keys and a limit of -1, and are never read or written.

  ARGV[1]  now, ms since the epoch (the gateway's clock, so tests can drive it)
  ARGV[2]  lease length ms (the longest a request may take, plus a margin)
  ARGV[3]  reservation id (unique per reservation; settle-budget-16.lua releases it)
  ARGV[3 + 3*(i-1) + 1]  counter i limit (-1 = slot unused)
  ARGV[3 + 3*(i-1) + 2]  counter i amount to reserve
  ARGV[3 + 3*(i-1) + 3]  counter i time to live ms (refreshed on each reservation)

  Returns { 1, expired } reserved;
          { 0, expired, i, spent, reserved } counter i would go over its limit (nothing reserved);
          { 2, 0, i, j, ... } counters i, j… have no value for their period yet: seed them, then call again.
  `expired` counts the lapsed reservations released by this call.
]]
local now = tonumber(ARGV[1])
local leaseMs = tonumber(ARGV[2])
local id = ARGV[3]
local function slot(i, field) return tonumber(ARGV[3 + 3 * (i - 1) + field]) end

local unseeded = {}
for i = 1, 8 do
  if slot(i, 1) >= 0 and redis.call('HEXISTS', KEYS[i], 'spent') == 0 then
    unseeded[#unseeded + 1] = i
  end
end
if #unseeded > 0 then
  local result = { 2, 0 }
  for _, index in ipairs(unseeded) do result[#result + 1] = index end
  return result
end

-- At most 1000 lapsed leases per counter per call (bounded work; any left over keep counting until the next call).
local expired = 0
for i = 1, 8 do
  if slot(i, 1) >= 0 then
    local ids = redis.call('ZRANGEBYSCORE', KEYS[8 + i], '-inf', now, 'LIMIT', 0, 1000)
    if #ids > 0 then
      local fields = {}
      for k, lapsed in ipairs(ids) do fields[k] = 'r:' .. lapsed end
      local amounts = redis.call('HMGET', KEYS[i], unpack(fields))
      local total = 0
      for _, amount in ipairs(amounts) do total = total + (tonumber(amount) or 0) end
      redis.call('HDEL', KEYS[i], unpack(fields))
      redis.call('ZREM', KEYS[8 + i], unpack(ids))
      if redis.call('HINCRBY', KEYS[i], 'reserved', -total) < 0 then redis.call('HSET', KEYS[i], 'reserved', 0) end
      expired = expired + #ids
    end
  end
end

for i = 1, 8 do
  local limit = slot(i, 1)
  if limit >= 0 then
    local values = redis.call('HMGET', KEYS[i], 'spent', 'reserved')
    local spent = tonumber(values[1]) or 0
    local reserved = tonumber(values[2]) or 0
    if spent + reserved + slot(i, 2) > limit then
      return { 0, expired, i, spent, reserved }
    end
  end
end

for i = 1, 8 do
  if slot(i, 1) >= 0 then
    local amount = slot(i, 2)
    local ttl = slot(i, 3)
    if amount > 0 then
      redis.call('HINCRBY', KEYS[i], 'reserved', amount)
      redis.call('HSET', KEYS[i], 'r:' .. id, amount)
      redis.call('ZADD', KEYS[8 + i], now + leaseMs, id)
      redis.call('PEXPIRE', KEYS[8 + i], ttl)
    end
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return { 1, expired }
