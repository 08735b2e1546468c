#!/usr/bin/env bash
# The viewer's benchmarks on one 600-slice 512x512 phantom CT series, as the workstation reads
# it (de-identified into a store), in one run:
#  1. loading: time to first image, time to full volume and peak memory of our core, a plain
#     GDCM read loop and ITK's ImageSeriesReader, median of 5 runs (viewer-load-bench);
#  2. display: slice changes per second in the workstation's view at 1024x1024
#     (viewer-slice-bench), under the X server in DISPLAY or a private Xvfb.
#   viewer/bench/run-viewer-bench.sh [BUILD_DIR]   (writes ~0.6 GB under /tmp, removed after)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
work=$(mktemp -d /tmp/reluth-viewer-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bin/phantom" --out "$work/trial" --seed 2 --subjects 1 --timepoints 1 --slices 600 >/dev/null
"$build/bin/anonymize" --in "$work/trial/incoming" --out "$work/store" --quarantine "$work/quarantine" \
  --enrolment "$work/trial/enrolment.csv" --charter "$here/assets/charters/reluth.json" >/dev/null 2>&1
series=$(find "$work/store" -mindepth 3 -maxdepth 3 -type d -name 'CT_*' | head -1)
echo "machine: $(nproc) cores; series: $(ls "$series" | wc -l) files, $(du -sh "$series" | cut -f1)"
echo
echo "== loading"
"$build/bin/viewer-load-bench" "$series" --runs 5
echo
echo "== display (1024x1024 view)"
if [ -n "${DISPLAY:-}" ]; then
  QT_QPA_PLATFORM=xcb "$build/bin/viewer-slice-bench" "$series" --size 1024 --frames 400
else
  xvfb-run -a -s '-screen 0 1920x1080x24' env QT_QPA_PLATFORM=xcb \
    "$build/bin/viewer-slice-bench" "$series" --size 1024 --frames 400
fi
