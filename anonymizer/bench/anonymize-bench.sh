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
clean() { rm -rf "$dir/out-cp" "$dir/out-cp2" "$dir/out-gdcm" "$dir/store" "$dir/quarantine" "$dir"/bench.*; sync; }

# Each tool writes into a fresh folder and nothing is deleted between the timed runs (ext4
# slows file creation right after mass deletions, which would favour whoever runs first).
clean
timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN {print b-a}'; }
cp1_s=$(timed cp -r "$in" "$dir/out-cp"); sync
gdcm_s=$(timed sh -c "gdcmanon -e -c '$dir/cert.pem' -i '$in' -o '$dir/out-gdcm' -r --continue >/dev/null 2>&1 || true"); sync
sync; t0=$(now)
"$bin/anonymize" --quiet --jobs "$jobs" --in "$in" --out "$dir/store" --quarantine "$dir/quarantine" \
  --enrolment "$trial/enrolment.csv" --key "$dir/bench.key.json" --audit "$dir/bench.audit.jsonl" > "$dir/anonymize.out"
t1=$(now); ours_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b-a}')
cp2_s=$(timed cp -r "$in" "$dir/out-cp2")
cp_s=$(awk -v a="$cp1_s" -v b="$cp2_s" 'BEGIN {print (a < b ? a : b)}')
stored=$(awk '/^stored:/ {print $2}' "$dir/anonymize.out")
quarantined=$(awk '/^quarantined:/ {print $2}' "$dir/anonymize.out")

echo
report "cp -r (best of 2)" "$cp_s"
report "gdcmanon -e (basic profile, 1 job)" "$gdcm_s"
report "anonymize --jobs $jobs (fsync+leak scan)" "$ours_s"
awk -v o="$ours_s" -v g="$gdcm_s" -v c="$cp_s" 'BEGIN {
  printf "\nanonymize vs gdcmanon: %.2fx the throughput (goal >= 2x)\n", g/o
  printf "anonymize vs cp -r:    %.2fx the throughput (goal >= 0.5x)\n", c/o }'
echo "anonymize: $stored stored, $quarantined quarantined (the phantom's NM Lu-177, burned-in and corrupt files)"
[ "$keep" = 1 ] || { clean; rm -rf "$dir/key.pem" "$dir/cert.pem"; }
