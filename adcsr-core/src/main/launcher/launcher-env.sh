# Sourced by every bin/adcsr-* launcher before it starts Java (appassembler's environment setup file).
#
# libtorch takes every intermediate tensor from malloc and frees it after use. By default glibc serves blocks of
# 32 MB and more (and, in the per-thread arenas, anything that does not fit a 64 MB heap) with fresh mmap'd pages and
# unmaps them at free, so every large intermediate pays page faults and kernel zeroing again: a 64 MiB add takes
# 20 ms that way against 2 ms in reused memory, and the full network at 128x128 runs 9.1 s against 6.3 s
# (README, adcsr-upscale speed; bench/upscale.sh profile). One arena that never unmaps or trims keeps freed blocks for reuse; the price is that
# the process keeps its peak heap until it exits, which the peak-RSS figures already include.
#
# On this build machine (a VM) a first-touched 4 KiB page costs about 17 µs, so the difference is larger for training:
# adcsr-train-vae's step for the default model's Stage 1 (batch 4, 128 px crops) takes 0.67 s with these settings and
# 1.6-1.75 s without, and a 150-step run holds a flat 1.38 GB from step 50 on (README, adcsr-train-vae, memory).
#
# Set GLIBC_TUNABLES yourself (even to the empty string) and this file leaves it alone.
if [ -z "${GLIBC_TUNABLES+set}" ]; then
  GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1099511627776
  export GLIBC_TUNABLES
fi
