#!/usr/bin/env bash
# What a login flood costs the service: N logins at once (default 500), each a different seeded
# user with the right password, at the default Argon2 cost (m=19456 KiB, t=2, p=1), against the
# release binary on a fresh database. Nothing else should run meanwhile (check the load average).
#
#   bench/login-flood.sh [N]     K6=<path> skips the k6 install; CLIENT_TIMEOUT=2s makes
#                                clients give up (default 60s); the service reads its own
#                                variables too, e.g. HASH_WAIT_TIMEOUT_MS=60000 lets every
#                                login wait for a hashing slot
#
# Prints the service's resident memory before the flood, at its peak (VmHWM) and 5 s after, the
# answers by status and the median and slowest login.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source bench/lib.sh
logins="${1:-500}"

build_service
K6="${K6:-$(scripts/install-k6.sh)}"
db_url="$(fresh_database bench_login_flood)"
say "seeding $logins users"
"$service_bin" --database-url "$db_url" seed --users "$logins" --todos-per-user 1 >&2
trap stop_service EXIT
start_service --database-url "$db_url" serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
say "service at $base_url (pid $service_pid); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

rss_before="$(proc_mib "$service_pid" VmRSS)"
"$K6" run --quiet -e BASE_URL="$base_url" -e LOGINS="$logins" \
  -e CLIENT_TIMEOUT="${CLIENT_TIMEOUT:-60s}" bench/login-flood.js
sleep 5
echo "rss_before_mib=$rss_before peak_rss_mib=$(proc_mib "$service_pid" VmHWM)" \
  "rss_after_mib=$(proc_mib "$service_pid" VmRSS)"
