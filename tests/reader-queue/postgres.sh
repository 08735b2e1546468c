#!/usr/bin/env bash
# A real PostgreSQL server for the queue's tests, on loopback, in a temporary folder.
#   postgres.sh start URLFILE   initdb + start + createdb; writes postgresql://... to URLFILE
#   postgres.sh stop URLFILE    stops the server and removes its folder
# As root the server runs as the postgres user (pg_ctl refuses root).
set -euo pipefail
cmd=${1:?start|stop}; urlfile=${2:?URLFILE}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "postgres.sh: PostgreSQL is not installed (./run.sh setup installs postgresql)" >&2; exit 1; }
as=()
[ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
case "$cmd" in
  start)
    dir=$(mktemp -d /tmp/reluth-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U reluth -E UTF8 >/dev/null
    port=55432
    while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U reluth reluth_test
    mkdir -p "$(dirname "$urlfile")"
    echo "postgresql://reluth@127.0.0.1:$port/reluth_test" > "$urlfile"
    echo "$dir" > "$urlfile.dir"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    [ -f "$urlfile.dir" ] || exit 0
    dir=$(cat "$urlfile.dir")
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir" "$urlfile" "$urlfile.dir"
    ;;
  *) echo "usage: $0 start|stop URLFILE" >&2; exit 2 ;;
esac
