#!/usr/bin/env bash
# De-identification throughput on a phantom trial of >= 2 GB of 512x512 CT, in one run, side by
# side with gdcmanon (GDCM's PS3.15 basic profile, with a throwaway certificate) and cp -r on
# the same files. Input is read from a warm page cache for all three.
#
# usage: anonymizer/bench/anonymize-bench.sh [--dir DIR] [--subjects N] [--jobs N] [--keep]
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$here/build/bin"
dir="${TMPDIR:-/tmp}/reluth-anon-bench"
subjects=12
jobs=2
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --subjects) subjects="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--dir DIR] [--subjects N] [--jobs N] [--keep]" >&2; exit 2 ;;
  esac
done
for tool in gdcmanon openssl; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (./run.sh setup installs it)" >&2; exit 2; }
done
[ -x "$bin/anonymize" ] && [ -x "$bin/phantom" ] || { echo "$0: build first (./run.sh build)" >&2; exit 2; }

trial="$dir/trial"
if [ ! -f "$trial/ground-truth.json" ] || [ "$(cat "$dir/.subjects" 2>/dev/null)" != "$subjects" ]; then
  "$bin/phantom" --out "$trial" --subjects "$subjects" --timepoints 3 --slices 120 --threads 2 >/dev/null
  echo "$subjects" > "$dir/.subjects"
fi
in="$trial/incoming"
files=$(find "$in" -type f | wc -l)
bytes=$(find "$in" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}')
echo "input: $files files, $mb MB of DICOM (phantom, $subjects subjects x 3 timepoints, 512x512 CT + MR + NM + SC)"
find "$in" -type f -exec cat {} + > /dev/null   # warm the page cache

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
  -subj "/CN=throwaway benchmark certificate" 2>/dev/null

now() { date +%s.%N; }
report() { # name seconds
  awk -v n="$1" -v s="$2" -v b="$bytes" -v f="$files" \
    'BEGIN {printf "%-34s %7.2f s %8.1f MB/s %8.0f files/s\n", n, s, b/1e6/s, f/s}'
}
clean() { rm -rf "$dir"/out-cp? "$dir"/out-gdcm? "$dir"/store? "$dir"/quarantine? "$dir"/bench.*; sync; }

# Each tool writes into a fresh folder and nothing is deleted between the timed runs (ext4
# slows file creation after mass deletions, which would favour whoever runs first). Two
# rounds in opposite orders; each tool's best run is reported. `sync` between runs (not timed)
# so that nobody waits behind another tool's write-back.
clean
run_cp() { cp -r "$in" "$dir/out-cp$1"; }
run_gdcm() { gdcmanon -e -c "$dir/cert.pem" -i "$in" -o "$dir/out-gdcm$1" -r --continue >/dev/null 2>&1 || true; }
run_ours() {
  "$bin/anonymize" --quiet --jobs "$jobs" --in "$in" --out "$dir/store$1" --quarantine "$dir/quarantine$1" \
    --enrolment "$trial/enrolment.csv" --key "$dir/bench.key.json" --audit "$dir/bench.audit$1.jsonl" > "$dir/anonymize.out"
}
declare -A best
measure() { # tool round
  local t0 t1 s
  sync; t0=$(now); "run_$1" "$2"; t1=$(now); sync
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b-a}')
  echo "  round $2: $1 $s s" >&2
  if [ -z "${best[$1]:-}" ] || awk -v a="$s" -v b="${best[$1]}" 'BEGIN {exit !(a < b)}'; then best[$1]=$s; fi
}
for tool in cp gdcm ours; do measure "$tool" 1; done
for tool in ours gdcm cp; do measure "$tool" 2; done
cp_s=${best[cp]}; gdcm_s=${best[gdcm]}; ours_s=${best[ours]}
stored=$(awk '/^stored:/ {print $2}' "$dir/anonymize.out")
quarantined=$(awk '/^quarantined:/ {print $2}' "$dir/anonymize.out")

echo "(best of two rounds each)"
report "cp -r" "$cp_s"
report "gdcmanon -e (basic profile, 1 job)" "$gdcm_s"
report "anonymize --jobs $jobs (fsync+leak scan)" "$ours_s"
awk -v o="$ours_s" -v g="$gdcm_s" -v c="$cp_s" 'BEGIN {
  printf "\nanonymize vs gdcmanon: %.2fx the throughput (goal >= 2x)\n", g/o
  printf "anonymize vs cp -r:    %.2fx the throughput (goal >= 0.5x)\n", c/o }'
echo "anonymize: $stored stored, $quarantined quarantined (the phantom's NM Lu-177, burned-in and corrupt files)"
[ "$keep" = 1 ] || { clean; rm -rf "$dir/key.pem" "$dir/cert.pem"; }
