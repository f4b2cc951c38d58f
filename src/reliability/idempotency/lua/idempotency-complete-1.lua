-- Stores the answer for a key still held (in flight) by the same fingerprint, and sets its TTL.
-- KEYS[1]: the record hash
-- ARGV[1]: fingerprint that holds the claim
-- ARGV[2]: the response (JSON text)
-- ARGV[3]: TTL of the answer in milliseconds
-- Returns 1 when stored, 0 when the claim was lost (expired or taken over).
local record = redis.call('HMGET', KEYS[1], 'fingerprint', 'state')
if record[1] ~= ARGV[1] or record[2] ~= 'in-flight' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'response', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
