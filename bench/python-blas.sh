# Sourced by the bench scripts that time a PyTorch baseline with Debian's /usr/bin/python3 (eval-nr.sh, distill.sh,
# train-vae.sh). Debian's python3-torch links the generic libblas.so.3, which on this machine is netlib's reference
# BLAS (libblas3): every Linear, matmul and attention product of the baseline then runs unoptimised, which users of
# pip's MKL torch never see, and the ratio would flatter us (convolutions are unaffected: they go to oneDNN). Give
# the baseline OpenBLAS, without touching the system, as PY_BLAS_DIR:
#   cd /tmp && apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /work/ref/openblas
#   PY_BLAS_DIR=/work/ref/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread bench/<script>.sh ...
# (or install libopenblas0-pthread, which switches the system's libblas.so.3 alternative).
#
# py_blas_env THREADS: the environment assignments (for `env`) that put PY_BLAS_DIR first on the library path and
# give OpenBLAS the thread count. py_blas_warn: one warning line on stderr when the baseline would run netlib's BLAS.
py_blas_env() {
  echo "OPENBLAS_NUM_THREADS=$1${PY_BLAS_DIR:+ LD_LIBRARY_PATH=$PY_BLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"
}
py_blas_warn() {
  local sysblas
  sysblas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
  if [ -z "${PY_BLAS_DIR:-}" ] && [[ "$sysblas" == */blas/libblas.so* ]]; then
    echo "warning: no PY_BLAS_DIR, and the system's libblas.so.3 is netlib's reference BLAS ($sysblas): the PyTorch" \
      "baseline runs its matrix products unoptimised, not as its users run it (bench/python-blas.sh)" >&2
  fi
}
