#!/usr/bin/env bash
# The viewer's loading benchmark on a 600-slice 512x512 phantom CT series, as the workstation
# reads it (de-identified into a store): time to first image, time to full volume and peak
# memory of our core, a plain GDCM read loop and ITK's ImageSeriesReader, median of 5 runs.
#   viewer/bench/run-load-bench.sh [BUILD_DIR]   (writes ~0.6 GB under /tmp, removed after)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
work=$(mktemp -d /tmp/reluth-viewer-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bin/phantom" --out "$work/trial" --seed 2 --subjects 1 --timepoints 1 --slices 600 >/dev/null
"$build/bin/anonymize" --in "$work/trial/incoming" --out "$work/store" --quarantine "$work/quarantine" \
  --enrolment "$work/trial/enrolment.csv" --charter "$here/assets/charters/reluth.json" >/dev/null
series=$(find "$work/store" -mindepth 3 -maxdepth 3 -type d -name 'CT_*' | head -1)
echo "machine: $(nproc) cores; series: $(ls "$series" | wc -l) files, $(du -sh "$series" | cut -f1)"
"$build/bin/viewer-load-bench" "$series" --runs 5
