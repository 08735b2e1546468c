#!/usr/bin/env bash
# ReLUTH central review workstation: one entry point for set-up, build, demo and tests.
#
#   ./run.sh demo    install what is missing, build, generate the demo trial, start the workstation
#                    (--multi-site: on ./run.sh serve's servers, images from Orthanc by DICOMweb)
#   ./run.sh test    install what is missing, build, run every test (GUI tests under Xvfb)
#   ./run.sh serve   the multi-site deployment on this machine: PostgreSQL, Orthanc (PostgreSQL
#                    index, DICOMweb, HTTPS), the demo trial delivered to it, the queue on
#                    PostgreSQL with its audit trail anchored; prints the URLs, runs until Ctrl-C
#   ./run.sh setup   only install the Debian packages
#   ./run.sh build   only configure and build
#   ./run.sh sanitized  only the ASan + UBSan build and run of the non-GUI tests (part of test)
#
# Environment: BUILD_DIR (default build), SANITIZE=1 (ASan+UBSan build, own build dir
# build-asan unless BUILD_DIR is set), DEMO_DIR (default demo-trial), JOBS, WERROR=1 (warnings
# are errors; `test` sets it), SANITIZED_TESTS=0 (`test` skips the ASan + UBSan run).
#
# `./run.sh test` (what CI runs) also builds the non-GUI test executables with AddressSanitizer
# and UndefinedBehaviorSanitizer (build-asan/) and runs them.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
ROOT=$(pwd)

# Exactly the Debian 12 packages the project needs. Never libvtk9-qt-dev (Qt 5 only).
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # libraries
  libdcmtk-dev libinsighttoolkit5-dev libgdcm-dev libvtk9-dev libsodium-dev libssl-dev
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev libqt6sql6-sqlite libqt6sql6-psql libboost-dev libboost-program-options-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  # SAS transport (.xpt) for the statistician's datasets, and readstat to read them back in the tests
  libreadstat-dev readstat
  # the DICOMweb client's HTTP (multi-site store)
  libcurl4-openssl-dev
  # the workstation's display: Mesa's OpenGL (software rendering under Xvfb) and a font
  libgl1-mesa-dri fonts-dejavu-core
  # tools used by the tests: DICOM validator and toolkit, pydicom's odd files, X server
  dcmtk dicom3tools python3-pydicom xvfb xauth imagemagick
  # the anonymizer's fuzzer (clang + libFuzzer runtime) and its benchmark peer (gdcmanon, openssl)
  clang libclang-rt-14-dev libgdcm-tools openssl
  # the reading queue's tests run against a real PostgreSQL server; the multi-site store is a
  # real Orthanc (PostgreSQL index, DICOMweb) behind nginx's TLS, queried by curl in the tests
  postgresql orthanc orthanc-postgresql orthanc-dicomweb nginx-light curl
)

log() { printf '\033[1m[run.sh]\033[0m %s\n' "$*" >&2; }

setup() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#PACKAGES[@]} Debian packages present"
    return
  fi
  log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  local dir=${BUILD_DIR:-build}
  local sanitize=OFF
  if [ "${SANITIZE:-0}" = 1 ]; then sanitize=ON; dir=${BUILD_DIR:-build-asan}; fi
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DRELUTH_SANITIZE=$sanitize -DRELUTH_WERROR=$([ "${WERROR:-0}" = 1 ] && echo ON || echo OFF)
  fi
  # shellcheck disable=SC2086 # TARGETS is a list of target names
  cmake --build "$dir" ${JOBS:+-j "$JOBS"} ${TARGETS:+--target $TARGETS}
  BUILD="$dir"
}

# The non-GUI test executables (and the tools they run) built with ASan + UBSan and run: what a
# plain build cannot show (a read past a buffer, a signed overflow) fails the run. The GUI
# tests stay on the plain build (Mesa under ASan is slow and its own leaks are not ours).
sanitized_tests() {
  [ "${SANITIZED_TESTS:-1}" = 1 ] || return 0
  local t0=$SECONDS rc=0
  SANITIZE=1 BUILD_DIR=build-asan TARGETS="recist_tests reader_queue_tests anonymizer_tests phantom_tests viewer_core_tests" build
  log "sanitized build finished in $((SECONDS - t0)) s"
  # the executables must be there and their tests registered: a run of nothing is a failure
  local n
  n=$(ctest --test-dir build-asan -N -LE gui -E 'Fuzz|NOT_BUILT|Gui\.|ScreenMode' | grep -c 'Test *#' || true)
  if [ "$n" -lt 100 ]; then
    log "sanitized tests: only $n tests registered in build-asan (expected the non-GUI suites)"
    return 1
  fi
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -LE gui -E 'Fuzz|NOT_BUILT|Gui\.|ScreenMode' ${JOBS:+-j "$JOBS"} || rc=$?
  log "sanitized tests finished in $((SECONDS - t0)) s with status $rc"
  return $rc
}

# Xvfb for the GUI tests: our own server, stopped on exit. Xvfb picks a free display itself
# (-displayfd) and says which once it accepts connections: a display number that merely looks
# free is not enough, since X's abstract sockets are shared with any other server in the same
# network namespace (a chroot beside a host session, say).
start_xvfb() {
  local dfile n=""
  dfile=$(mktemp)
  Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$dfile" >/dev/null 2>&1 &
  XVFB_PID=$!
  trap 'kill $XVFB_PID 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    n=$(tr -dc 0-9 < "$dfile")
    [ -n "$n" ] && break
    kill -0 "$XVFB_PID" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$dfile"
  if [ -z "$n" ] || ! kill -0 "$XVFB_PID" 2>/dev/null; then
    log "Xvfb did not start: the GUI tests cannot run"
    return 1
  fi
  export DISPLAY=":$n"
  export QT_QPA_PLATFORM=xcb
  log "Xvfb on display :$n for the GUI tests"
}

run_tests() {
  start_xvfb
  local t0=$SECONDS rc=0
  ctest --test-dir "$BUILD" --output-on-failure ${JOBS:+-j "$JOBS"} || rc=$?
  log "ctest finished in $((SECONDS - t0)) s with status $rc"
  return $rc
}

# The demo trial (phantom, seed 1) in OUT and its de-identified store OUT/store.
demo_store() {
  local out=$1 charter=$2
  "$BUILD/bin/charter-check" "$charter"
  if [ ! -f "$out/ground-truth.json" ]; then
    log "generating the demo trial in $out"
    "$BUILD/bin/phantom" --out "$out" --seed 1 --subjects 4 --timepoints 3 --slices 120
  fi
  # De-identify the site drops into the store the workstation will read (the key, the audit
  # log and the quarantine stay beside it, never inside).
  # (again when the charter or the de-identification tables changed since the store was made)
  if [ ! -d "$out/store" ] || [ "$out/ground-truth.json" -nt "$out/store" ] || [ "$charter" -nt "$out/store" ] ||
     [ -n "$(find assets/deid -newer "$out/store" -type f 2>/dev/null | head -1)" ]; then
    rm -rf "$out/store" "$out/quarantine" "$out"/store.*
    log "de-identifying the site drops into $out/store"
    "$BUILD/bin/anonymize" --in "$out/incoming" --out "$out/store" --quarantine "$out/quarantine" \
      --enrolment "$out/enrolment.csv" --charter "$charter"
  fi
}

# The demo trial's reading queue on DB (sqlite:... or postgresql://...): demo accounts (password
# "reluth-demo-1", demo only), the store's timepoints, randomization dates, readers assigned,
# every timepoint QC'd - ready for the readers' worklists.
demo_queue() {
  local db=$1 out=$2 charter=$3
  local rq=("$BUILD/bin/reader-queue" --db "$db")
  export RELUTH_QUEUE_PASSWORD=reluth-demo-1 RELUTH_QUEUE_NEW_PASSWORD=reluth-demo-1
  "${rq[@]}" init --charter "$charter" --admin admin
  "${rq[@]}" --user admin users add manager manager
  "${rq[@]}" --user admin users add reader1 reader
  "${rq[@]}" --user admin users add reader2 reader
  "${rq[@]}" --user admin users add adjudicator adjudicator
  "${rq[@]}" --user admin users add datamanager data_manager
  "${rq[@]}" --user manager import "$out/store"
  awk -F, 'NR == 1 { print "STUDYID,USUBJID,RANDDT"; next } { print "RELUTH," $2 "," $4 }' \
    "$out/enrolment.csv" > "$out/SUBJ.csv"
  "${rq[@]}" --user manager subjects "$out/SUBJ.csv"
  "${rq[@]}" --user manager assign
  local subject t
  for subject in $(ls "$out/store"); do
    [ -d "$out/store/$subject" ] || continue
    t=1
    for _ in $(ls -d "$out/store/$subject"/*_* | sed 's|.*/||' | cut -c1-8 | sort -u); do
      "${rq[@]}" --user manager qc "$subject" "$t" accept >/dev/null
      t=$((t + 1))
    done
  done
  "${rq[@]}" --user manager backlog
  unset RELUTH_QUEUE_PASSWORD RELUTH_QUEUE_NEW_PASSWORD
}

demo() {
  local out=${DEMO_DIR:-demo-trial}
  local charter=assets/charters/reluth.json
  demo_store "$out" "$charter"
  # The reading queue of the demo trial (SQLite beside the store): demo accounts (password
  # "reluth-demo-1", demo only), the store's timepoints, randomization dates, readers
  # assigned, every timepoint QC'd - ready for the readers' worklists.
  local db="sqlite:$out/queue.db"
  # a queue older than the store (or the charter) belongs to another store: made again
  if [ -f "$out/queue.db" ] && { [ "$out/store" -nt "$out/queue.db" ] || [ "$charter" -nt "$out/queue.db" ]; }; then
    rm -f "$out/queue.db" "$out/queue.db-wal" "$out/queue.db-shm"
  fi
  if [ ! -f "$out/queue.db" ]; then
    log "setting up the demo reading queue in $out/queue.db"
    demo_queue "$db" "$out" "$charter"
  fi
  "$BUILD/bin/phantom" --describe "$out"
  log "demo trial ready: site drops in $out/incoming, de-identified store in $out/store," \
      "quarantine in $out/quarantine, reading queue $db"
  # The workstation on the de-identified store: the first subject's latest timepoint beside
  # the one before it. Without a screen (no DISPLAY) it runs on a private Xvfb and saves
  # what it shows.
  if [ -n "${DISPLAY:-}" ]; then
    log "starting the workstation on $out/store: sign in as reader1, reader2, adjudicator, manager or datamanager" \
        "(demo password reluth-demo-1)"
    "$BUILD/bin/reluth-workstation" --store "$out/store" --db "$db" \
      --sign-in-hint "Demo accounts: reader1, reader2 (readers), adjudicator, manager, datamanager - password reluth-demo-1. Switch user (toolbar) to change."
  else
    log "no DISPLAY on this machine: running the workstation on a private Xvfb, signed in as reader1;" \
        "what it shows is saved to $out/workstation.png"
    RELUTH_QUEUE_PASSWORD=reluth-demo-1 xvfb-run -a -s '-screen 0 1920x1080x24' env QT_QPA_PLATFORM=xcb \
      "$BUILD/bin/reluth-workstation" --store "$out/store" --db "$db" --user reader1 --size 1600x900 \
      --screenshot "$out/workstation.png"
  fi
}

# The multi-site deployment on this machine: the queue's PostgreSQL, the trial's Orthanc (its
# index in PostgreSQL, DICOMweb, HTTPS by nginx with a CA made here, one account per role), the
# demo trial de-identified and delivered to Orthanc by C-STORE, the queue set up on PostgreSQL,
# its audit trail anchored (Ed25519 key 0600, signed checkpoints every minute to a log outside
# the database). Prints where everything is and runs until Ctrl-C (SERVE_ONCE=1: stops at once,
# for checks). Servers and their data live in temporary folders: stopping removes them.
serve() {
  local site=${SERVE_DIR:-reluth-site} out=${DEMO_DIR:-demo-trial} charter=assets/charters/reluth.json
  mkdir -p "$site"
  chmod 700 "$site"
  site=$(cd "$site" && pwd)
  demo_store "$out" "$charter"
  # globals: the EXIT trap runs after serve() has returned, when its locals are gone
  SERVE_PGURL="$site/postgres.url" SERVE_STATE="$site/orthanc.state" SERVE_LOOP="" SERVE_GATE=""
  local pgurl=$SERVE_PGURL state=$SERVE_STATE
  stop_site() {
    [ -n "${SERVE_LOOP:-}" ] && kill "$SERVE_LOOP" 2>/dev/null || true
    [ -n "${SERVE_GATE:-}" ] && kill "$SERVE_GATE" 2>/dev/null || true
    tests/servers/orthanc.sh stop "$SERVE_STATE" || true
    tests/reader-queue/postgres.sh stop "$SERVE_PGURL" || true
    log "site stopped"
  }
  trap stop_site EXIT
  tests/reader-queue/postgres.sh start "$pgurl"
  tests/servers/orthanc.sh start "$state" "$pgurl"
  # shellcheck disable=SC1090
  . "$state"
  local admin_url queue_url psql
  admin_url=$(cat "$pgurl")
  # the queue over TLS, verified against the CA postgres.sh made (the password, if the server
  # asked for one, would come from ~/.pgpass: never in the URL)
  queue_url="${admin_url%/*}/reluth_queue?sslmode=verify-full&sslrootcert=$pgurl.ca"
  psql=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
  "$psql" -q "$admin_url" -c "CREATE DATABASE reluth_queue" >/dev/null
  demo_queue "$queue_url" "$out" "$charter" >/dev/null
  rm -f "$site/audit.key" "$site/audit.key.pub" "$site/audit-checkpoints.log"
  "$BUILD/bin/reader-queue" audit keygen --audit-key "$site/audit.key"
  local anchor=(--audit-key "$site/audit.key" --audit-log "$site/audit-checkpoints.log")
  "$BUILD/bin/reader-queue" --db "$queue_url" audit checkpoint "${anchor[@]}" >/dev/null
  # the site's service account: signed reports from the queue's outbox to Orthanc (STOW-RS, the
  # manager's Orthanc account), audit checkpoints - every minute
  local muser mpass
  read -r _ muser mpass < <(grep '^manager ' "$ORTHANC_CREDENTIALS")
  (umask 077; printf '{"url": "dicomweb+%s", "user": "%s", "password": "%s", "ca": "%s"}\n' \
    "$ORTHANC_DICOMWEB" "$muser" "$mpass" "$ORTHANC_CA" > "$site/pacs-service.json")
  ( while sleep 60; do
      "$BUILD/bin/reader-queue" --db "$queue_url" audit checkpoint "${anchor[@]}" || true
      "$BUILD/bin/report-push" --from-queue --db "$queue_url" --pacs "$site/pacs-service.json" >>"$site/report-push.log" 2>&1 || true
    done ) >/dev/null 2>&1 &
  SERVE_LOOP=$!
  # the gate nginx asks about every request of a reader's or the adjudicator's Orthanc account:
  # only the study folders the queue opened to the token's user (reader-queue/gate)
  "$BUILD/bin/reader-queue-gate" --listen "$ORTHANC_GATE" --db "$queue_url" --orthanc "$ORTHANC_HTTP_LOOPBACK" \
    --orthanc-credentials "$ORTHANC_CREDENTIALS" 2>>"$site/gate.log" &
  SERVE_GATE=$!
  log "delivering $out/store to Orthanc (C-STORE to $ORTHANC_AET@127.0.0.1:$ORTHANC_DICOM_PORT)"
  # --peer-id: each serve starts a new, empty Orthanc at an address an earlier one may have had
  "$BUILD/bin/anonymize-deliver" --quiet --store "$out/store" --to "$ORTHANC_AET@127.0.0.1:$ORTHANC_DICOM_PORT" --peer-id "$ORTHANC_PG_DB"
  "$BUILD/bin/reader-queue" --db "$queue_url" audit verify --audit-pub "$site/audit.key.pub" --audit-log "$site/audit-checkpoints.log"
  cat <<INFO

  ReLUTH site on this machine
    Orthanc (REST, HTTPS)   $ORTHANC_URL        trust: $ORTHANC_CA
    DICOMweb                $ORTHANC_DICOMWEB
    DICOM (C-STORE)         $ORTHANC_AET@127.0.0.1:$ORTHANC_DICOM_PORT
    Orthanc accounts        $ORTHANC_CREDENTIALS (0600: role, user, password)
                            readers and the adjudicator gated by reader-queue-gate on $ORTHANC_GATE (log $site/gate.log)
    reading queue           $queue_url
                            (TLS verified against the site CA; demo accounts, password reluth-demo-1)
    audit anchor            key $site/audit.key (0600), public $site/audit.key.pub,
                            checkpoints $site/audit-checkpoints.log (signed every 60 s)
    signed reports          the queue's outbox -> Orthanc by report-push --from-queue every 60 s (log $site/report-push.log)
    verify the audit trail  build/bin/reader-queue --db '$queue_url' audit verify --audit-pub $site/audit.key.pub --audit-log $site/audit-checkpoints.log

INFO
  if [ "${MULTI_SITE_DEMO:-0}" = 1 ]; then
    # the workstation on these servers: images by DICOMweb from Orthanc, the queue on PostgreSQL
    # over TLS; the Orthanc account of its 0600 configuration is the readers' (reader1)
    local wuser wpass
    read -r _ wuser wpass < <(grep '^reader1 ' "$ORTHANC_CREDENTIALS")
    (umask 077; printf '{"url": "dicomweb+%s", "user": "%s", "password": "%s", "ca": "%s"}\n' \
      "$ORTHANC_DICOMWEB" "$wuser" "$wpass" "$ORTHANC_CA" > "$site/pacs.json")
    local ws=("$BUILD/bin/reluth-workstation" --store "dicomweb+$ORTHANC_DICOMWEB" --pacs-config "$site/pacs.json" --db "$queue_url")
    if [ -n "${DISPLAY:-}" ]; then
      log "starting the workstation on Orthanc ($ORTHANC_DICOMWEB): sign in as reader1, reader2, adjudicator, manager or datamanager (demo password reluth-demo-1)"
      "${ws[@]}" --sign-in-hint "Multi-site demo: images from Orthanc by DICOMweb. Accounts reader1, reader2, adjudicator, manager, datamanager - password reluth-demo-1."
    else
      log "no DISPLAY: the workstation runs on a private Xvfb signed in as reader1; what it shows is saved to $site/workstation.png"
      RELUTH_QUEUE_PASSWORD=reluth-demo-1 xvfb-run -a -s '-screen 0 1920x1080x24' env QT_QPA_PLATFORM=xcb \
        "${ws[@]}" --user reader1 --size 1600x900 --screenshot "$site/workstation.png"
    fi
    return 0
  fi
  if [ "${SERVE_ONCE:-0}" = 1 ]; then return 0; fi
  log "serving until Ctrl-C"
  while sleep 3600; do :; done
}

cmd=${1:-}
case "$cmd" in
  setup) setup ;;
  build) setup; build ;;
  test) export WERROR=1; setup; build; rc=0; run_tests || rc=$?; sanitized_tests || rc=$?; exit $rc ;;
  demo)
    setup; build
    if [ "${2:-}" = --multi-site ]; then MULTI_SITE_DEMO=1 serve; else demo; fi ;;
  serve) setup; build; serve ;;
  sanitized) setup; sanitized_tests ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
