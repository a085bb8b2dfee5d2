#!/usr/bin/env bash
# The engine issue (README "Known engine issues"): which float32 convolutions libtorch gets wrong on this machine,
# and what the work-around costs. Run from anywhere after the build (mvn -B -DskipTests package):
#   bench/engine.sh [repro|speed|all]      (default all; about 3 minutes on 2 quiet cores, 2 GB for the paper model)
#   ONEDNN_VERBOSE=1 bench/engine.sh repro  shows the oneDNN kernels and memory layouts behind each case
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads="${THREADS:-2}"
. bin/launcher-env.sh   # the launchers' malloc settings
java -Xmx8g -cp 'lib/*' bench/EngineBench.java "${1:-all}" "$threads" 2>/dev/null
