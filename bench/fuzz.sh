#!/usr/bin/env bash
# Issue 19's fuzz run (README "Security"): seeded mutants of a safetensors model, the two torch-zip parity fixtures,
# a PNG and a JPEG through adcsr-upscale (info and full runs), adcsr-eval and adcsr-degrade, one process per mutant,
# 60 s each.
# Run after the build (mvn -B -DskipTests package):
#   bench/fuzz.sh [N] [MINUTES] [JOBS] [READERS]   N mutants per reader (default 100), no new mutant after MINUTES
#       (default 20), JOBS processes at a time (default 2), READERS a regex on the reader names (default all:
#       safetensors, torch-zip net_params, torch-zip halfDecoder, png, jpeg); mutant i of a reader is the same each run
# The table goes to stdout and bench/out/fuzz.csv; failing mutants are kept under bench/out/fuzz/fail/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v /usr/bin/time >/dev/null || { echo "fuzz.sh: needs GNU time at /usr/bin/time for peak RSS" >&2; exit 2; }
. bin/launcher-env.sh   # the launchers' malloc settings
java -cp 'lib/*' bench/Fuzz.java "${1:-100}" "${2:-20}" "${3:-2}" "${4:-.*}" 2>/dev/null
