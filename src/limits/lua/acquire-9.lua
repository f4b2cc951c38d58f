--[[
  Takes from up to 8 token buckets and one concurrency lease set, all or nothing, in one round trip.

  KEYS[1..8]  token-bucket hashes (fields: t = tokens, at = clock ms of t); unused slots carry a placeholder key
              and a rate of 0, and are never read or written
  KEYS[9]     concurrency sorted set (member = lease id, score = lease expiry ms)

  ARGV[1]     now: the caller's clock, ms since the epoch
  ARGV[2]     concurrency max (0 = no concurrency limit)
  ARGV[3]     lease id
  ARGV[4]     lease duration ms (a lease whose holder died frees itself after this)
  ARGV[5 + 3*(i-1)]  bucket i rate per minute (0 = slot unused)
  ARGV[6 + 3*(i-1)]  bucket i capacity (the burst)
  ARGV[7 + 3*(i-1)]  bucket i amount to take

  Returns { allowed (1|0), retry_after_ms, concurrency_exceeded (1|0), remaining_1, reset_ms_1, ..., remaining_8, reset_ms_8 }
  Same rules as src/limits/bucket-math.ts: a full bucket always serves one request (going into debt).
]]
local now = tonumber(ARGV[1])
local concurrencyMax = tonumber(ARGV[2])
local levels = {}
local allowed = 1
local retryAfter = 0

for i = 1, 8 do
  local base = 5 + 3 * (i - 1)
  local rate = tonumber(ARGV[base])
  if rate > 0 then
    local capacity = tonumber(ARGV[base + 1])
    local amount = tonumber(ARGV[base + 2])
    local stored = redis.call('HMGET', KEYS[i], 't', 'at')
    local tokens = capacity
    if stored[1] then
      local elapsed = math.max(0, now - tonumber(stored[2]))
      tokens = math.min(capacity, tonumber(stored[1]) + elapsed * rate / 60000)
    end
    levels[i] = tokens
    if tokens < amount and tokens < capacity then
      allowed = 0
      local needed = math.min(amount, capacity) - tokens
      retryAfter = math.max(retryAfter, math.ceil(needed * 60000 / rate))
    end
  end
end

local concurrencyExceeded = 0
if allowed == 1 and concurrencyMax > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now)
  if redis.call('ZCARD', KEYS[9]) >= concurrencyMax then
    allowed = 0
    concurrencyExceeded = 1
    retryAfter = math.max(retryAfter, 1000)
  else
    local leaseMs = tonumber(ARGV[4])
    redis.call('ZADD', KEYS[9], now + leaseMs, ARGV[3])
    redis.call('PEXPIRE', KEYS[9], leaseMs)
  end
end

local result = { allowed, retryAfter, concurrencyExceeded }
for i = 1, 8 do
  local base = 5 + 3 * (i - 1)
  local rate = tonumber(ARGV[base])
  local remaining, reset = 0, 0
  if rate > 0 then
    local capacity = tonumber(ARGV[base + 1])
    local tokens = levels[i]
    if allowed == 1 then
      tokens = tokens - tonumber(ARGV[base + 2])
      local toFull = math.ceil((capacity - tokens) * 60000 / rate)
      redis.call('HSET', KEYS[i], 't', tostring(tokens), 'at', now)
      redis.call('PEXPIRE', KEYS[i], toFull + 1000)
    end
    remaining = math.max(0, math.floor(tokens))
    if tokens < capacity then reset = math.ceil((capacity - tokens) * 60000 / rate) end
  end
  result[#result + 1] = remaining
  result[#result + 1] = reset
end
return result
