-- Gives up a claim without an answer (the request failed), if the same fingerprint still holds it.
-- KEYS[1]: the record hash
-- ARGV[1]: fingerprint that holds the claim
-- Returns 1 when released, 0 otherwise.
local record = redis.call('HMGET', KEYS[1], 'fingerprint', 'state')
if record[1] == ARGV[1] and record[2] == 'in-flight' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
