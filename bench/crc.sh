#!/usr/bin/env bash
# The cost of zip CRC-32 checks on a checkpoint of the official size (issue 19, README "Security"): writes a 1.79 GB
# stand-in for net_params_200.pkl with Debian's PyTorch (once, under bench/out/), then loads it tensor by tensor with
# and without the checks. Run after the build (mvn -B -DskipTests package):  bench/crc.sh [ROUNDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p bench/out
file=bench/out/official_size.pkl
[ -f "$file" ] || /usr/bin/python3 bench/make_official_size_checkpoint.py "${REFERENCE:-../shared/reference}" "$file"
. bin/launcher-env.sh   # the launchers' malloc settings
java -Xmx4g -cp 'lib/*' bench/CrcCost.java "$file" "${1:-3}" 2>/dev/null
