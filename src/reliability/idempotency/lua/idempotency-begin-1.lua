-- Claims an idempotency key, or reports its holder / stored answer, in one atomic step.
-- KEYS[1]: the record (a hash: fingerprint, state = in-flight | done, response)
-- ARGV[1]: fingerprint of the request body claiming it
-- ARGV[2]: lock TTL in milliseconds (a crashed holder's claim expires after it)
-- Returns {'acquired'} | {'in-flight', fingerprint} | {'done', fingerprint, response}
local record = redis.call('HMGET', KEYS[1], 'fingerprint', 'state', 'response')
if record[1] then
  if record[2] == 'done' then
    return {'done', record[1], record[3]}
  end
  return {'in-flight', record[1]}
end
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'state', 'in-flight')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'acquired'}
