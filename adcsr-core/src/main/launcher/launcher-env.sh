# Sourced by every bin/adcsr-* launcher before it starts Java (appassembler's environment setup file).
#
# libtorch takes every intermediate tensor from malloc and frees it after use. By default glibc serves blocks of
# 32 MB and more (and, in the per-thread arenas, anything that does not fit a 64 MB heap) with fresh mmap'd pages and
# unmaps them at free, so every large intermediate pays page faults and kernel zeroing again: a 64 MiB add takes
# 20 ms that way against 2 ms in reused memory, and the full network at 128x128 runs 9.1 s against 6.3 s
# (README, adcsr-upscale speed; bench/upscale.sh profile). One arena that never unmaps or trims keeps freed blocks for reuse; the price is that
# the process keeps its peak heap until it exits, which the peak-RSS figures already include.
#
# Not for adcsr-train-vae: its steps left arrays with the parameters (fixed; README, adcsr-train-vae, memory), and under
# these settings it then grew by 400-450 MB a step instead of 20 MB; until a long run is measured again with them, it
# runs with glibc's defaults.
#
# Set GLIBC_TUNABLES yourself (even to the empty string) and this file leaves it alone.
if [ -z "${GLIBC_TUNABLES+set}" ] && [ "$(basename "$0")" != adcsr-train-vae ]; then
  GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1099511627776
  export GLIBC_TUNABLES
fi
