#!/usr/bin/env bash
# A real PostgreSQL server for the queue's tests, on loopback, in a temporary folder.
#   postgres.sh start URLFILE   initdb + start + createdb; writes postgresql://... to URLFILE and
#                               the CA that signed the server's TLS certificate to URLFILE.ca
#                               (TLS is on: ?sslmode=verify-full&sslrootcert=$(cat URLFILE.ca))
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
    # TLS: a CA made here and the server's certificate for 127.0.0.1 / localhost
    tls="$dir/tls"; mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ReLUTH test PostgreSQL CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$tls/ext.cnf"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 30 -extfile "$tls/ext.cnf" \
      -out "$tls/server.crt" 2>/dev/null
    chmod 600 "$tls/server.key" "$tls/ca.key"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$tls"
    port=55432
    while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" start >/dev/null
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U reluth reluth_test
    mkdir -p "$(dirname "$urlfile")"
    echo "postgresql://reluth@127.0.0.1:$port/reluth_test" > "$urlfile"
    echo "$dir" > "$urlfile.dir"
    cp "$tls/ca.pem" "$urlfile.ca"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    [ -f "$urlfile.dir" ] || exit 0
    dir=$(cat "$urlfile.dir")
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir" "$urlfile" "$urlfile.dir" "$urlfile.ca"
    ;;
  *) echo "usage: $0 start|stop URLFILE" >&2; exit 2 ;;
esac
