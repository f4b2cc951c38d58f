--[[
  Settles a reservation made by reserve-budget-8.lua: releases the reserved amount and adds the real one to spent.

  KEYS[1..8]  budget counter hashes (fields: spent, reserved), in the same slots as at reservation

  ARGV[2*(i-1) + 1]  counter i reserved amount to release (-1 = slot unused)
  ARGV[2*(i-1) + 2]  counter i real amount spent

  Returns { spent_before_1, spent_after_1, ..., spent_before_8, spent_after_8 } (0 for unused slots).
]]
local result = {}
for i = 1, 8 do
  local reserved = tonumber(ARGV[2 * (i - 1) + 1])
  local before, after = 0, 0
  if reserved >= 0 then
    local actual = tonumber(ARGV[2 * (i - 1) + 2])
    before = tonumber(redis.call('HGET', KEYS[i], 'spent')) or 0
    local left = redis.call('HINCRBY', KEYS[i], 'reserved', -reserved)
    if left < 0 then redis.call('HSET', KEYS[i], 'reserved', 0) end
    after = redis.call('HINCRBY', KEYS[i], 'spent', actual)
  end
  result[#result + 1] = before
  result[#result + 1] = after
end
return result
