--[[
  Settles a reservation made by reserve-budget-16.lua: releases its amount if its lease is still held, and adds the
  real amount to spent. A lease already released as lapsed is not released again (nothing is subtracted twice).

  KEYS[i]      (i = 1..8) budget counter hash (fields spent, reserved, r:<reservation id>), same slots as at reservation
  KEYS[8 + i]  (i = 1..8) counter i's leases (sorted set of reservation ids by expiry)

  ARGV[1]  reservation id
  ARGV[1 + 2*(i-1) + 1]  1 if slot i is used, -1 if unused
  ARGV[1 + 2*(i-1) + 2]  counter i real amount spent

  Returns { spent_before_1, spent_after_1, ..., spent_before_8, spent_after_8, released } (0 for unused slots), where
  released counts the slots whose lease was still held.
]]
local field = 'r:' .. ARGV[1]
local result = {}
local released = 0
for i = 1, 8 do
  local before, after = 0, 0
  if tonumber(ARGV[1 + 2 * (i - 1) + 1]) >= 0 then
    local actual = tonumber(ARGV[1 + 2 * (i - 1) + 2])
    before = tonumber(redis.call('HGET', KEYS[i], 'spent')) or 0
    local amount = tonumber(redis.call('HGET', KEYS[i], field))
    if amount then
      redis.call('HDEL', KEYS[i], field)
      redis.call('ZREM', KEYS[8 + i], ARGV[1])
      if redis.call('HINCRBY', KEYS[i], 'reserved', -amount) < 0 then redis.call('HSET', KEYS[i], 'reserved', 0) end
      released = released + 1
    end
    after = redis.call('HINCRBY', KEYS[i], 'spent', actual)
  end
  result[#result + 1] = before
  result[#result + 1] = after
end
result[#result + 1] = released
return result
