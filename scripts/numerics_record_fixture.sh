#!/bin/bash
# Re-records the committed numerics baseline (Tests/NumericsTests/Fixtures/numerics/), which makes
# `swift test` fail when a change moves the forward pass beyond the f32 preset. Run it only for a change
# that is meant to move the outputs, and say why in the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
PIXELGPT_RECORD_NUMERICS_FIXTURE=1 swift test --scratch-path "${SCRATCH:-.build}" --filter NumericsTests.committedBaselineStillHolds
ls -l Tests/NumericsTests/Fixtures/numerics/
