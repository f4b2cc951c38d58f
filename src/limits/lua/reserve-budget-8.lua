--[[
  Reserves amounts against up to 8 budget counters, all or nothing, in one round trip.

  KEYS[1..8]  budget counter hashes (fields: spent, reserved; integer units: micro-USD or tokens); unused slots carry
              a placeholder key and a limit of -1, and are never read or written

  ARGV[3*(i-1) + 1]  counter i limit (-1 = slot unused)
  ARGV[3*(i-1) + 2]  counter i amount to reserve
  ARGV[3*(i-1) + 3]  counter i time to live ms (refreshed on each reservation)

  Returns { 1 } reserved;
          { 0, i, spent, reserved } counter i would go over its limit (nothing reserved);
          { 2, i, j, ... } counters i, j… have no value for their period yet: seed them, then call again.
]]
local unseeded = {}
for i = 1, 8 do
  local limit = tonumber(ARGV[3 * (i - 1) + 1])
  if limit >= 0 and redis.call('HEXISTS', KEYS[i], 'spent') == 0 then
    unseeded[#unseeded + 1] = i
  end
end
if #unseeded > 0 then
  local result = { 2 }
  for _, index in ipairs(unseeded) do result[#result + 1] = index end
  return result
end

for i = 1, 8 do
  local limit = tonumber(ARGV[3 * (i - 1) + 1])
  if limit >= 0 then
    local amount = tonumber(ARGV[3 * (i - 1) + 2])
    local values = redis.call('HMGET', KEYS[i], 'spent', 'reserved')
    local spent = tonumber(values[1]) or 0
    local reserved = tonumber(values[2]) or 0
    if spent + reserved + amount > limit then
      return { 0, i, spent, reserved }
    end
  end
end

for i = 1, 8 do
  local limit = tonumber(ARGV[3 * (i - 1) + 1])
  if limit >= 0 then
    redis.call('HINCRBY', KEYS[i], 'reserved', tonumber(ARGV[3 * (i - 1) + 2]))
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3 * (i - 1) + 3]))
  end
end
return { 1 }
