#!/usr/bin/env bash
# Starts the local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) the backend tests use, when they are not running.
# With CI=true a service that still cannot be reached fails the run (the tests of that backend must not skip).
set -uo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
postgres_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if ! redis_up && command -v redis-server >/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if ! postgres_up && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi

for _ in $(seq 1 30); do
  redis_up && postgres_up && break
  sleep 1
done

status=0
redis_up && echo "redis: up" || { echo "redis: NOT reachable on 127.0.0.1:6379"; status=1; }
postgres_up && echo "postgresql: up" || { echo "postgresql: NOT reachable on 127.0.0.1:5432"; status=1; }
if [ "$status" -ne 0 ] && [ "${CI:-}" = "true" ]; then
  echo "CI=true and a backing service is missing: failing rather than skipping its tests" >&2
  exit 1
fi
exit 0
