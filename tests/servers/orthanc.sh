#!/usr/bin/env bash
# A real Orthanc for the multi-site tests and `./run.sh serve`: Debian's Orthanc with its
# PostgreSQL index plugin and its DICOMweb plugin, one account per role, the index in a
# PostgreSQL database; HTTPS with a certificate from a test CA made here, terminated by nginx in
# front of Orthanc: Debian 12's Orthanc 1.10.1 serves HTTPS through libcivetweb, which looks up
# OpenSSL 1.1's SSL_get_peer_certificate in OpenSSL 3 at run time, finds nothing and jumps to
# address 0 on the first TLS connection (gdb: SIGSEGV in a civetweb-worker; civetweb issue
# #1334). Orthanc's own HTTP listens on 127.0.0.1 only, behind authentication.
#   orthanc.sh start STATEFILE PG_URL   starts it; STATEFILE (shell variables) says where it is
#   orthanc.sh stop STATEFILE           stops it and removes its folder
#   orthanc.sh restart STATEFILE        stops and starts the same server (same data, ports, keys)
# PG_URL: postgresql://user@host:port/db of a server this script may create a database on, or
# a file holding it (as tests/reader-queue/postgres.sh writes).
# STATEFILE holds: ORTHANC_DIR, ORTHANC_URL (https://127.0.0.1:PORT), ORTHANC_DICOMWEB,
# ORTHANC_DICOM_PORT, ORTHANC_AET, ORTHANC_CA (the CA certificate to trust), ORTHANC_CREDENTIALS
# (a 0600 file: one "role user password" line per account), ORTHANC_PID, ORTHANC_GATE (where
# nginx asks reader-queue-gate about the gated accounts' requests: whoever runs the trial's queue
# starts the gate there; ./run.sh serve does).
set -euo pipefail
cmd=${1:?start|stop|restart}; state=${2:?STATEFILE}
plugins=/usr/share/orthanc/plugins
command -v Orthanc >/dev/null && command -v nginx >/dev/null && [ -f "$plugins/libOrthancDicomWeb.so" ] && [ -f "$plugins/libOrthancPostgreSQLIndex.so" ] ||
  { echo "orthanc.sh: Orthanc and its plugins are not installed (./run.sh setup installs orthanc orthanc-dicomweb orthanc-postgresql nginx-light)" >&2; exit 1; }

free_port() { local p=$1; while (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }

launch() { # starts Orthanc on the config in $ORTHANC_DIR and waits until its HTTPS answers
  Orthanc --logdir="$ORTHANC_DIR/log" "$ORTHANC_DIR/orthanc.json" >"$ORTHANC_DIR/stdout.log" 2>&1 &
  local pid=$!
  nginx -p "$ORTHANC_DIR/nginx" -c "$ORTHANC_DIR/nginx/nginx.conf" ||
    { echo "orthanc.sh: nginx (the TLS front) did not start" >&2; kill "$pid"; return 1; }
  local user pass
  read -r _ user pass < <(grep '^manager ' "$ORTHANC_CREDENTIALS")
  for _ in $(seq 300); do
    if curl -fsS --cacert "$ORTHANC_CA" -u "$user:$pass" "$ORTHANC_URL/system" >/dev/null 2>&1; then
      echo "$pid"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "orthanc.sh: Orthanc did not start; its log:" >&2
  tail -30 "$ORTHANC_DIR"/log/*.log "$ORTHANC_DIR/stdout.log" >&2 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  return 1
}

stop_server() {
  [ -f "$ORTHANC_DIR/nginx/nginx.pid" ] && kill "$(cat "$ORTHANC_DIR/nginx/nginx.pid")" 2>/dev/null || true
  [ -n "${ORTHANC_PID:-}" ] || return 0
  kill "$ORTHANC_PID" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$ORTHANC_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$ORTHANC_PID" 2>/dev/null || true
}

case "$cmd" in
  start)
    pg=${3:?PG_URL}
    [ -f "$pg" ] && pg=$(head -1 "$pg")
    ORTHANC_DIR=$(mktemp -d /tmp/reluth-orthanc.XXXXXX)
    chmod 700 "$ORTHANC_DIR"
    mkdir -p "$ORTHANC_DIR/log" "$ORTHANC_DIR/storage" "$ORTHANC_DIR/tls"
    # --- a test CA and the server's certificate for 127.0.0.1 and localhost
    tls=$ORTHANC_DIR/tls
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ReLUTH test CA" \
      -keyout "$tls/ca.key" -out "$tls/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$tls/ext.cnf"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 30 \
      -extfile "$tls/ext.cnf" -out "$tls/server.crt" 2>/dev/null
    cat "$tls/server.key" "$tls/server.crt" > "$tls/server.pem"
    chmod 600 "$tls"/*.key "$tls/server.pem"
    # --- one account per role (random passwords, in a 0600 file; never on a command line)
    ORTHANC_CREDENTIALS=$ORTHANC_DIR/credentials
    umask 077
    : > "$ORTHANC_CREDENTIALS"
    users_json=""
    for role in manager reader1 reader2 adjudicator anonymizer; do
      pass=$(openssl rand -hex 16)
      echo "$role $role $pass" >> "$ORTHANC_CREDENTIALS"
      users_json="$users_json${users_json:+, }\"$role\": \"$pass\""
    done
    umask 022
    # --- the index database
    pg_host=$(echo "$pg" | sed -E 's|postgresql://([^@]*)@([^:/]*):([0-9]+)/.*|\2|')
    pg_port=$(echo "$pg" | sed -E 's|postgresql://([^@]*)@([^:/]*):([0-9]+)/.*|\3|')
    pg_user=$(echo "$pg" | sed -E 's|postgresql://([^:@]*).*|\1|')
    pg_db=orthanc_$(basename "$ORTHANC_DIR" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
    psql=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql
    "$psql" -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE $pg_db" >/dev/null
    http_port=$(free_port 58042)
    https_port=$(free_port $((http_port + 1)))
    dicom_port=$(free_port 54242)
    gate_socket=$ORTHANC_DIR/gate.sock
    mkdir -p "$ORTHANC_DIR/nginx/tmp"
    # nginx's workers run as this account (as root nginx would drop to nobody): the gate's socket
    # file is this account's only (0600)
    nginx_user=""
    [ "$(id -u)" -eq 0 ] && nginx_user="user $(id -un) $(id -gn);"
    cat > "$ORTHANC_DIR/nginx/nginx.conf" <<NGINX
$nginx_user
pid $ORTHANC_DIR/nginx/nginx.pid;
error_log $ORTHANC_DIR/nginx/error.log warn;
worker_processes 2;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $ORTHANC_DIR/nginx/tmp/body;
  proxy_temp_path $ORTHANC_DIR/nginx/tmp/proxy;
  fastcgi_temp_path $ORTHANC_DIR/nginx/tmp/fastcgi;
  uwsgi_temp_path $ORTHANC_DIR/nginx/tmp/uwsgi;
  scgi_temp_path $ORTHANC_DIR/nginx/tmp/scgi;
  # the service accounts pass (and a request without an account, which Orthanc answers 401); every other account (readers, the adjudicator) is gated: the
  # gate (reader-queue-gate on the socket $gate_socket, started with the trial's queue) is asked about each
  # request and allows only what the queue opened to the token's user. No gate running: 500.
  map \$remote_user \$reluth_open_account { manager 1; anonymizer 1; "" 1; default 0; }
  server {
    listen 127.0.0.1:$https_port ssl;
    ssl_certificate $tls/server.crt;
    ssl_certificate_key $tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 0;
    location = /_gate {
      internal;
      if (\$reluth_open_account) { return 204; }
      proxy_pass http://unix:$gate_socket:/check;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI \$request_uri;
      proxy_set_header X-Original-Method \$request_method;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location / {
      auth_request /_gate;
      auth_request_set \$gate_reason \$upstream_http_x_gate_reason;
      add_header X-Gate-Reason \$gate_reason always;
      proxy_pass http://127.0.0.1:$http_port;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_request_buffering off;
      proxy_buffering off;
      # with buffering off nginx passes what it read at once; reading Orthanc's answer 1 MB at a
      # time instead of 8 kB took a 600-slice series (315 MB) from 1.57 s to 0.94 s over TLS
      proxy_buffer_size 1m;
      proxy_buffers 4 1m;
      proxy_busy_buffers_size 2m;
      proxy_read_timeout 600s;
    }
  }
}
NGINX
    cat > "$ORTHANC_DIR/orthanc.json" <<JSON
{
  "Name": "ReLUTH trial store",
  "StorageDirectory": "$ORTHANC_DIR/storage",
  "IndexDirectory": "$ORTHANC_DIR/storage",
  "Plugins": ["$plugins/libOrthancDicomWeb.so", "$plugins/libOrthancPostgreSQLIndex.so"],
  "PostgreSQL": {"EnableIndex": true, "EnableStorage": false, "Host": "$pg_host", "Port": $pg_port,
                 "Database": "$pg_db", "Username": "$pg_user", "Password": "", "Lock": false},
  "DicomWeb": {"Enable": true, "Root": "/dicom-web/", "EnableWado": true, "Ssl": true, "StudiesMetadata": "Full",
               "SeriesMetadata": "Full", "PublicRoot": "/dicom-web/"},
  "HttpPort": $http_port,
  "RemoteAccessAllowed": false,
  "SslEnabled": false,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { $users_json },
  "DicomServerEnabled": true,
  "DicomAet": "RELUTH",
  "DicomPort": $dicom_port,
  "DicomCheckCalledAet": true,
  "DicomAlwaysAllowStore": true,
  "DicomAlwaysAllowEcho": true,
  "OverwriteInstances": false,
  "StableAge": 5,
  "HttpCompressionEnabled": false,
  "ConcurrentJobs": 2,
  "HttpThreadsCount": 16
}
JSON
    ORTHANC_URL=https://127.0.0.1:$https_port
    ORTHANC_CA=$tls/ca.pem
    ORTHANC_PID=$(launch)
    mkdir -p "$(dirname "$state")"
    cat > "$state" <<VARS
ORTHANC_DIR=$ORTHANC_DIR
ORTHANC_URL=$ORTHANC_URL
ORTHANC_DICOMWEB=$ORTHANC_URL/dicom-web
ORTHANC_DICOM_PORT=$dicom_port
ORTHANC_AET=RELUTH
ORTHANC_CA=$ORTHANC_CA
ORTHANC_CREDENTIALS=$ORTHANC_CREDENTIALS
ORTHANC_PG_DB=$pg_db
ORTHANC_PG_URL=$pg
ORTHANC_PID=$ORTHANC_PID
ORTHANC_HTTP_LOOPBACK=http://127.0.0.1:$http_port
ORTHANC_GATE=unix:$gate_socket
VARS
    echo "orthanc.sh: Orthanc $(Orthanc --version | head -1 | awk '{print $2}') on $ORTHANC_URL (DICOM RELUTH@127.0.0.1:$dicom_port, index in PostgreSQL $pg_db, $ORTHANC_DIR)"
    ;;
  stop)
    [ -f "$state" ] || exit 0
    # shellcheck disable=SC1090
    . "$state"
    stop_server
    psql=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql
    pg_host=$(echo "$ORTHANC_PG_URL" | sed -E 's|postgresql://([^@]*)@([^:/]*):([0-9]+)/.*|\2|')
    pg_port=$(echo "$ORTHANC_PG_URL" | sed -E 's|postgresql://([^@]*)@([^:/]*):([0-9]+)/.*|\3|')
    pg_user=$(echo "$ORTHANC_PG_URL" | sed -E 's|postgresql://([^:@]*).*|\1|')
    "$psql" -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "DROP DATABASE IF EXISTS $ORTHANC_PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$ORTHANC_DIR" "$state"
    ;;
  restart)
    # shellcheck disable=SC1090
    . "$state"
    stop_server
    pid=$(launch)
    sed -i "s/^ORTHANC_PID=.*/ORTHANC_PID=$pid/" "$state"
    echo "orthanc.sh: Orthanc restarted on $ORTHANC_URL"
    ;;
  *) echo "usage: $0 start STATEFILE PG_URL | stop STATEFILE | restart STATEFILE" >&2; exit 2 ;;
esac
