#!/usr/bin/env bash
# Whether login timing tells a known email from an unknown one after the Argon2 cost went up:
# users seeded at a cheap cost (m=1024 KiB, t=1), the service at the default one (m=19456 KiB,
# t=2). Median time of a wrong password for user1 and of an unknown email, measured before and
# after user1's first successful login. Release binary, fresh database; sequential requests.
#
#   bench/login-timing.sh [ROUNDS]     (default 30 of each kind per phase)
#
# The brute-force limit is raised for the run: these are all failed logins on purpose.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source bench/lib.sh
rounds="${1:-30}"
password=lab-password

build_service
db_url="$(fresh_database bench_login_timing)"
say "seeding users at a cheap Argon2 cost"
"$service_bin" --database-url "$db_url" --argon2-memory-kib 1024 --argon2-iterations 1 \
  seed --users 10 --todos-per-user 1 >&2
trap stop_service EXIT
start_service --database-url "$db_url" serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  --failures-before-lock 1000000
say "service at $base_url at the default Argon2 cost; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# POSTs a login for email $1, password $2; prints "<status> <seconds>".
login() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" "$base_url/login"
}

# Median in ms of the times on stdin ("<status> <seconds>" lines), which must all be 401.
median_ms() {
  awk '$1 != 401 { print "unexpected status " $1 > "/dev/stderr"; exit 1 } { print $2 * 1000 }' |
    sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", (t[int((NR + 1) / 2)] + t[int(NR / 2) + 1]) / 2 }'
}

# One phase: wrong password and unknown email, interleaved, ROUNDS of each.
measure() {
  local wrong unknown i
  wrong="$(mktemp)" unknown="$(mktemp)"
  for i in $(seq "$rounds"); do
    login user1@lab.test not-the-password >>"$wrong"
    login "nobody$i@lab.test" "$password" >>"$unknown"
  done
  wrong="$(median_ms <"$wrong")"
  unknown="$(median_ms <"$unknown")"
  echo "$1: wrong_password_median_ms=$wrong unknown_email_median_ms=$unknown"
}

measure before_first_login
status="$(login user1@lab.test "$password" | cut -d' ' -f1)"
[[ "$status" == 200 ]] || { say "user1's login answered $status"; exit 1; }
measure after_first_login
