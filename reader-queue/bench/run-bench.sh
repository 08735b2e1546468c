#!/usr/bin/env bash
# The reading queue's benchmark on both backends: 10,000 subjects x 10 timepoints x 2 readers,
# 8 concurrent clients, 10 s per load: worklist queries alone, with signatures paced at 1 and 2
# per second, and with as many signatures as the CPU allows (every 10th worklist).
#   reader-queue/bench/run-bench.sh [BUILD_DIR]       (default build; prints the figures)
# PostgreSQL is a real server started by tests/reader-queue/postgres.sh on loopback.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
bench=$build/bin/reader-queue-bench
urlfile=$(mktemp -u /tmp/reluth-bench-pg.XXXXXX)
"$here/tests/reader-queue/postgres.sh" start "$urlfile"
trap '"$here/tests/reader-queue/postgres.sh" stop "$urlfile"' EXIT
admin=$(cat "$urlfile")
base=${admin%/*}
loads=("--sign-every 0" "--signs-per-second 1" "--signs-per-second 2" "--sign-every 10")
echo "machine: $(nproc) cores, $(uname -r)"
for backend in sqlite postgresql; do
  for load in "${loads[@]}"; do
    echo "== $backend $load"
    if [ "$backend" = sqlite ]; then
      "$bench" --seconds 10 $load
    else
      psql "$admin" -q -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
      "$bench" --db "$base/bench" --seconds 10 $load
    fi
  done
done
