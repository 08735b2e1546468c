#!/usr/bin/env bash
# Builds the anonymizer's libFuzzer target with clang (ASan + UBSan) and runs it for a bounded
# time over a seed corpus of pydicom's odd files and a few phantom slices.
#
# usage: tests/fuzz/run-fuzz.sh [--seconds N] [--build-dir DIR]
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
seconds=30
build="$src/build/fuzz"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
command -v clang++ >/dev/null || { echo "$0: clang++ missing (./run.sh setup installs clang)" >&2; exit 2; }
mkdir -p "$build/obj" "$build/corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -I"$src/anonymizer/include" -I"$src/anonymizer/src" -I"$src/reader-queue/charter/include" -I"$src/reader-queue/store/include" -I"$src/recist/include"
       -DRELUTH_SOURCE_DIR="\"$src\"" -DRELUTH_SOURCE_ASSETS="\"$src/assets\"" $(pkg-config --cflags libsodium))
sources=("$src"/anonymizer/src/*.cpp "$src"/reader-queue/charter/src/Charter.cpp "$src"/reader-queue/store/src/*.cpp "$src"/recist/src/Types.cpp
         "$src"/tests/fuzz/anonymizer_fuzz.cpp)
objs=()
for s in "${sources[@]}"; do
  o="$build/obj/$(echo "$s" | sed "s|$src/||; s|/|_|g").o"
  # rebuilt when it or any header it may include changed (a stale object with an old struct layout crashes)
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find "$src/anonymizer/include" "$src/anonymizer/src" \
        "$src/reader-queue/charter/include" "$src/reader-queue/store/include" "$src/recist/include" -name '*.h' -newer "$o")" ]; then
    echo "fuzz: compiling $(basename "$s")" >&2
    clang++ "${flags[@]}" -c "$s" -o "$o"
  fi
  objs+=("$o")
done
clang++ -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$build/anonymizer_fuzz" \
  -ldcmdata -loflog -lofstd $(pkg-config --libs libsodium) -lcrypto -lpthread
# seeds: pydicom's odd files, and the start of a phantom CT slice and of the phantom's NM file
files=/usr/lib/python3/dist-packages/pydicom/data/test_files
[ -d "$files" ] && find "$files" -maxdepth 1 -type f -size -200k -exec cp -n {} "$build/corpus/" \; 2>/dev/null || true
if [ -x "$src/build/bin/phantom" ] && [ ! -f "$build/corpus/.phantom" ]; then
  "$src/build/bin/phantom" --out "$build/phantom" --subjects 2 --timepoints 2 --slices 90 >/dev/null
  n=0
  for f in $(find "$build/phantom/incoming" -name 'IM00001.dcm' | head -6); do
    head -c 20000 "$f" > "$build/corpus/phantom-$n.dcm"; n=$((n+1))
  done
  rm -rf "$build/phantom"; touch "$build/corpus/.phantom"
fi
# inputs that once crashed it (kept small, committed): each must now run clean
if ls "$src/tests/fuzz/regressions/"* >/dev/null 2>&1; then
  echo "fuzz: replaying $(ls "$src/tests/fuzz/regressions" | wc -l) regression input(s)" >&2
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$build/anonymizer_fuzz" "$src/tests/fuzz/regressions/"* >/dev/null 2>&1 \
    || { echo "fuzz: a regression input fails again:" >&2; "$build/anonymizer_fuzz" "$src/tests/fuzz/regressions/"* 2>&1 | tail -30; exit 1; }
  cp -n "$src/tests/fuzz/regressions/"* "$build/corpus/"
fi
echo "fuzz: running for $seconds s over $(ls "$build/corpus" | wc -l) seeds" >&2
cd "$build"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  ./anonymizer_fuzz -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
  -print_final_stats=1 corpus 2>&1 | tail -25
