--[[
  Settles an acquisition made by acquire-9.lua once the request is over: gives back (or takes more of) each
  bucket's units by the difference between the estimate and the real usage, and releases the concurrency lease.

  KEYS[1..8]  token-bucket hashes, in the same slots as at acquisition (fields: t = tokens, at = clock ms of t)
  KEYS[9]     concurrency sorted set

  ARGV[1]     now: the caller's clock, ms since the epoch
  ARGV[2]     lease id to release ('' = none)
  ARGV[3 + 3*(i-1)]  bucket i rate per minute (0 = slot unused)
  ARGV[4 + 3*(i-1)]  bucket i capacity
  ARGV[5 + 3*(i-1)]  bucket i refund: units to add back (negative takes more; never above capacity)

  Returns 1.
]]
local now = tonumber(ARGV[1])
for i = 1, 8 do
  local base = 3 + 3 * (i - 1)
  local rate = tonumber(ARGV[base])
  local refund = tonumber(ARGV[base + 2])
  if rate > 0 and refund ~= 0 then
    local capacity = tonumber(ARGV[base + 1])
    local stored = redis.call('HMGET', KEYS[i], 't', 'at')
    local tokens = capacity
    if stored[1] then
      local elapsed = math.max(0, now - tonumber(stored[2]))
      tokens = math.min(capacity, tonumber(stored[1]) + elapsed * rate / 60000)
    end
    tokens = math.min(capacity, tokens + refund)
    local toFull = math.ceil((capacity - tokens) * 60000 / rate)
    redis.call('HSET', KEYS[i], 't', tostring(tokens), 'at', now)
    redis.call('PEXPIRE', KEYS[i], toFull + 1000)
  end
end
if ARGV[2] ~= '' then
  redis.call('ZREM', KEYS[9], ARGV[2])
end
return 1
