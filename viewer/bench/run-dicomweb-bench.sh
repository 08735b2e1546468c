#!/usr/bin/env bash
# Multi-site reading benchmark (issue 17): one 600-slice 512x512 phantom CT series, de-identified,
# delivered to a real Orthanc (Debian's, PostgreSQL index, DICOMweb, nginx TLS; started here on
# loopback with PostgreSQL) and read three ways in one run by dicomweb-bench: the local store,
# DICOMweb (WADO-RS), Orthanc's /series/{id}/archive.
#   viewer/bench/run-dicomweb-bench.sh [BUILD_DIR]   (~1.5 GB under /tmp, removed after)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
work=$(mktemp -d /tmp/reluth-dicomweb-bench.XXXXXX)
cleanup() {
  "$here/tests/servers/orthanc.sh" stop "$work/orthanc.state" >/dev/null 2>&1 || true
  "$here/tests/reader-queue/postgres.sh" stop "$work/pg.url" >/dev/null 2>&1 || true
  rm -rf "$work"
}
[ "${KEEP:-0}" = 1 ] || trap cleanup EXIT
"$build/bin/phantom" --out "$work/trial" --seed 2 --subjects 1 --timepoints 1 --slices 600 >/dev/null
"$build/bin/anonymize" --in "$work/trial/incoming" --out "$work/store" --quarantine "$work/quarantine" \
  --enrolment "$work/trial/enrolment.csv" --charter "$here/assets/charters/reluth.json" >/dev/null 2>&1
series=$(find "$work/store" -mindepth 3 -maxdepth 3 -type d -name 'CT_*' | head -1)
"$here/tests/reader-queue/postgres.sh" start "$work/pg.url" >/dev/null
"$here/tests/servers/orthanc.sh" start "$work/orthanc.state" "$work/pg.url" >/dev/null
# shellcheck disable=SC1091
. "$work/orthanc.state"
read -r _ user pass < <(grep '^manager ' "$ORTHANC_CREDENTIALS")
umask 077
printf '{"url": "dicomweb+%s", "user": "%s", "password": "%s", "ca": "%s"}\n' "$ORTHANC_DICOMWEB" "$user" "$pass" "$ORTHANC_CA" > "$work/dicomweb.json"
printf 'user = "%s:%s"\ncacert = "%s"\n' "$user" "$pass" "$ORTHANC_CA" > "$work/curl.cfg"
umask 022
# only the CT series goes to Orthanc (a store of its own, so the delivery sends nothing else)
mkdir -p "$work/one"
cp -r "$series" "$work/one/"
"$build/bin/anonymize-deliver" --quiet --store "$work/one" --audit "$work/deliver.jsonl" --to "$ORTHANC_AET@127.0.0.1:$ORTHANC_DICOM_PORT" >/dev/null
first=$(find "$series" -name "*.dcm" -print -quit)
study=$(dcmdump +P StudyInstanceUID "$first" | sed -E 's/.*\[(.*)\].*/\1/')
seriesuid=$(dcmdump +P SeriesInstanceUID "$first" | sed -E 's/.*\[(.*)\].*/\1/')
id=$(curl -fsS -K "$work/curl.cfg" -X POST --data-binary "$seriesuid" "$ORTHANC_URL/tools/lookup" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["ID"])')
echo "machine: $(nproc) cores; series: $(ls "$series" | wc -l) files, $(du -sh "$series" | cut -f1); Orthanc $ORTHANC_URL (TLS by nginx)"
"$build/bin/dicomweb-bench" --series "$series" --config "$work/dicomweb.json" --study "$study" --series-uid "$seriesuid" \
  --archive-path "/series/$id/archive" --runs 3
