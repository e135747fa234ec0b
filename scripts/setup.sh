#!/usr/bin/env bash
# Installs what pixelgpt-swift needs to build and test, and nothing else. Idempotent: a second run
# installs nothing and only checks. Needs root (or sudo) for apt-get; CI and the dev machines run as root.
set -euo pipefail

# System libraries the Swift package links (Sources/C*), pkg-config to find them, and the fonts the
# renderer falls back on (SPEC 5; Debian's Noto replaces the original's GoNotoCurrent.ttf).
# chromium and chromium-driver: the browser the HTML report's test opens the page in (docs/report.md).
APT_PACKAGES=(pkg-config libhdf5-dev libopenblas-dev libpango1.0-dev libjson-c-dev zlib1g-dev fonts-noto-core fonts-noto-cjk chromium chromium-driver)
# Reference implementations the interoperability tests compare against (run only when importable).
# PyPI name, or NAME:MODULE when the import name differs. Pillow: the PNG decoding reference; scipy and
# scikit-learn: the metrics HF evaluate uses, recomputed from an evaluation's samples; selenium: drives
# chromium for the HTML report's test (scripts/check_html_report.py).
PIP_PACKAGES=(safetensors numpy h5py sentencepiece pillow:PIL scipy scikit-learn:sklearn selenium jsonschema)

log() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  log "system packages present"
fi

for lib in hdf5-serial openblas pangocairo json-c zlib; do
  pkg-config --exists "$lib" || { log "pkg-config cannot find $lib after install"; exit 1; }
done

# Python reference packages: best effort, the tests that need them skip without them.
if command -v python3 >/dev/null 2>&1; then
  need_pip=()
  for entry in "${PIP_PACKAGES[@]}"; do
    python3 -c "import ${entry#*:}" 2>/dev/null || need_pip+=("${entry%%:*}")
  done
  if ((${#need_pip[@]})); then
    log "pip installing ${need_pip[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}" >&2 \
      || log "pip install failed; Python interoperability tests will be skipped"
  fi
fi
log "ok"
