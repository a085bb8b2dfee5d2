#!/usr/bin/env bash
# Where adcsr-train-vae's step could get faster (README, adcsr-train-vae speed): libtorch's oneDNN convolution
# gradients as they are and with input and output channels padded to a multiple of 16, against the gradients the
# suite computes (oneDNN off), and the time of a forward and backward of paper-size layers both ways. Run from
# anywhere after the build (mvn -B -DskipTests package):
#   bench/train-vae-backward.sh [errors|speed|all]     (THREADS, default 2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. bin/launcher-env.sh   # the launchers' malloc settings
java -Xmx8g -cp 'lib/*' bench/ConvBackwardPadding.java "${1:-all}" "${THREADS:-2}" 2>/dev/null
