#!/usr/bin/env bash
# Prints the swiftc -target-cpu that this machine supports, or nothing for the toolchain default.
# Why: Swift's default x86-64 target has no FMA/AVX, so SIMD fused multiply-add becomes a library call
# (about 40x slower). Each level is chosen only when /proc/cpuinfo lists every feature it implies, never
# unconditionally; PIXELGPT_TARGET_CPU overrides (empty string = toolchain default).
set -euo pipefail
if [ -n "${PIXELGPT_TARGET_CPU+set}" ]; then
  printf '%s\n' "$PIXELGPT_TARGET_CPU"
  exit 0
fi
[ "$(uname -m)" = "x86_64" ] && [ -r /proc/cpuinfo ] || exit 0
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has_all() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
haswell=(avx avx2 fma bmi1 bmi2 f16c movbe popcnt abm sse4_2 xsave)
if has_all "${haswell[@]}" avx512f avx512cd avx512bw avx512dq avx512vl; then
  echo skylake-avx512
elif has_all "${haswell[@]}"; then
  echo haswell
fi
