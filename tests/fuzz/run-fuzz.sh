#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, tests/fuzz/CMakeLists.txt) and runs them:
# each first replays its committed regression inputs (tests/fuzz/regressions/<target>/: every
# one must run clean), then fuzzes for a bounded time from its seed corpus, with a dictionary.
# Prints one line per target (executions, rate, coverage, corpus, findings) and fails on any
# finding; a crashing input is left in <build>/artifacts/<target>/ - commit it as a regression.
#
# usage: tests/fuzz/run-fuzz.sh [--all | --target NAME ...] [--seconds N] [--build-dir DIR]
#   --all        every target (the default)
#   --seconds N  fuzzing time per target (default 30)
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
seconds=30
build="$src/build/fuzz"
targets=()
all=(deidentify_fuzz header_fuzz series_fuzz sdtm_fuzz charter_fuzz payload_fuzz enrolment_fuzz report_fuzz)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --all) targets=("${all[@]}"); shift ;;
    --target) targets+=("$2"); shift 2 ;;
    -h|--help) sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$0: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
case "$seconds" in ''|*[!0-9]*) echo "$0: --seconds needs a whole number, not '$seconds'" >&2; exit 2 ;; esac
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "$0: no fuzz target '$t' (targets: ${all[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "$0: clang++ missing (./run.sh setup installs clang)" >&2; exit 2; }

# --- build (incremental: Ninja + ccache)
mkdir -p "$build"
if [ ! -f "$build/build.ninja" ]; then
  launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -G Ninja -S "$src/tests/fuzz" -B "$build" -DCMAKE_BUILD_TYPE=None "${launcher[@]}" >"$build/configure.log" 2>&1 \
    || { cat "$build/configure.log" >&2; exit 1; }
fi
echo "fuzz: building ${#targets[@]} target(s)" >&2
cmake --build "$build" --target "${targets[@]}" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 1; }

# --- seeds (made once per build folder; the corpus then grows run after run)
pydicom_files=/usr/lib/python3/dist-packages/pydicom/data/test_files
dicom_seeds="$build/seeds/dicom"
if [ ! -f "$dicom_seeds/.done" ]; then
  mkdir -p "$dicom_seeds"
  [ -d "$pydicom_files" ] && find "$pydicom_files" -maxdepth 1 -type f -size -200k -exec cp {} "$dicom_seeds/" \;
  if [ -x "$src/build/bin/phantom" ]; then
    "$src/build/bin/phantom" --out "$build/seeds/phantom" --subjects 1 --timepoints 2 --slices 30 --thickness 8 >/dev/null
    picks=$(find "$build/seeds/phantom/incoming" -type f \( -name 'IM00001.dcm' -o -name 'IM_TRUNC.dcm' -o -path '*_NM/*' -o -path '*_SC/*' -o -path '*_MR/*' \) | sort | head -12)
    if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pydicom' 2>/dev/null; then
      # shut down to 16x16 images by pydicom (a whole valid file of each kind, a few kB)
      /usr/bin/python3 "$src/tests/fuzz/make-seeds.py" "$dicom_seeds" $picks || { echo "fuzz: make-seeds.py failed" >&2; exit 1; }
    else
      n=0; for f in $picks; do head -c 20000 "$f" > "$dicom_seeds/phantom-$n.dcm"; n=$((n+1)); done
    fi
    rm -rf "$build/seeds/phantom"
  fi
  touch "$dicom_seeds/.done"
fi
seeds_of() { # target -> its seed folders and dictionary
  case "$1" in
    deidentify_fuzz|header_fuzz|series_fuzz) echo "$dicom_seeds dicom" ;;
    sdtm_fuzz) echo "$src/tests/fuzz/seeds/sdtm csv" ;;
    charter_fuzz) echo "$src/assets/charters json" ;;
    payload_fuzz) echo "$src/tests/fuzz/seeds/payload json" ;;
    enrolment_fuzz) echo "$src/tests/fuzz/seeds/enrolment csv" ;;
    report_fuzz) echo "$src/tests/fuzz/seeds/report dicom" ;;
  esac
}

# --- replay, then fuzz
# max_allocation_size_mb: DCMTK reading from memory allocates an element's declared length before
# it finds the buffer shorter, so a 300-byte input asks for up to 4 GB (a 0.5-3 s allocation under
# ASan); no input of at most 64 KiB needs more than 64 MB, and a refused allocation is DCMTK's
# EC_MemoryExhausted, an error it handles - as on a machine that cannot give it
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=64:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
summary=()
for t in "${targets[@]}"; do
  read -r seeds dict <<<"$(seeds_of "$t")"
  corpus="$build/corpus/$t"; artifacts="$build/artifacts/$t"; log="$build/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$build/logs"
  regressions="$src/tests/fuzz/regressions/$t"
  # the report reader also starts from reports other tools made: pydicom's SR test files
  if [ "$t" = report_fuzz ] && [ -d "$pydicom_files" ]; then
    find "$pydicom_files" -maxdepth 1 -type f \( -iname '*report*' -o -iname '*SR*.dcm' \) -size -200k -exec cp -n {} "$corpus/" \;
  fi
  if [ -d "$regressions" ] && ls "$regressions"/* >/dev/null 2>&1; then
    if ! "$build/$t" -runs=0 "$regressions"/* >"$log.replay" 2>&1; then
      echo "fuzz: $t: a committed regression input fails again:" >&2; tail -30 "$log.replay" >&2
      failed=1; summary+=("$t: REGRESSION FAILS"); continue
    fi
    cp -n "$regressions"/* "$corpus/" 2>/dev/null || true
  fi
  [ "$seconds" -gt 0 ] || { summary+=("$t: regressions replayed"); continue; }
  set +e
  "$build/$t" -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    -dict="$src/tests/fuzz/dict/$dict.dict" -artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  units=$(find "$corpus" -type f | wc -l)
  if [ $rc -ne 0 ]; then
    failed=1
    echo "fuzz: $t FOUND something (exit $rc); the input is in $artifacts:" >&2
    grep -E 'FINDING|ERROR: |SUMMARY|==ERROR|runtime error' "$log" | head -8 >&2
    summary+=("$t: FINDING after ${execs:-?} executions ($cov) - see $log")
  else
    summary+=("$t: ${execs} executions in ${seconds} s (${rate}/s), ${cov:-cov: ?}, corpus ${units}, no finding")
  fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $failed
