#!/bin/bash
# Measures the differences behind the tolerance presets of `pixelgpt numerics` (docs/numerics.md):
#   threads  OpenBLAS 1 thread against 2 threads, same build, same checkpoint
#   bf16     a BF16-converted checkpoint against its F32 source
#   numpy    this forward pass against the numpy float32 reference of the golden fixtures (other kernels)
#   build    another build of the same sources (RELEASE=path/to/release/pixelgpt): its `pixelgpt forward
#            --hidden-states` on each group of the builtin probe against this binary's baseline
# Usage: [RELEASE=BINARY] [ONLY=build] scripts/numerics_measure.sh PIXELGPT_BINARY WORKDIR [BASE_CHECKPOINT_DIR]
# Prints one line per comparison: what, checkpoint, the largest relative difference of any stage, and the
# per-stage relative differences in forward order.
set -euo pipefail
P=$(realpath "$1"); W=$2; BASE=${3:-}; ONLY=${ONLY:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$W"
stages() { python3 -c '
import json,sys
r=json.load(sys.stdin)
worst=max(float(s["relative"]) for s in r["stages"])
print("%-8s %-14s max relative %.3e  first failure %s | %s" % (sys.argv[1], sys.argv[2], worst, r.get("first_failure"),
      "  ".join("%s %.2e" % (s["stage"], float(s["relative"])) for s in r["stages"])))' "$1" "$2"; }
for preset in tiny small; do
  [ -d "$W/$preset" ] || "$P" init --preset $preset --seed 7 "$W/$preset" >/dev/null
  [ -d "$W/$preset-bf16" ] || "$P" convert "$W/$preset" "$W/$preset-bf16" --dtype bf16 >/dev/null
done
checkpoints="tiny small"
[ -n "$ONLY" ] && checkpoints=""
if [ -n "${RELEASE:-}" ]; then
  for c in tiny small ${BASE:+base}; do
    for group in text pixel pair; do
      # One group with bare names: what `pixelgpt forward` reads and writes.
      python3 -c 'import sys; from safetensors.numpy import load_file, save_file
d = load_file(sys.argv[1]); g = sys.argv[2] + "."
save_file({k[len(g):]: v for k, v in d.items() if k.startswith(g)}, sys.argv[3])' "$ROOT/probes/builtin.safetensors" $group "$W/probe.$group.safetensors"
      "$P" numerics record --model "$W/$c" --probe "$W/probe.$group.safetensors" --storage full --out "$W/$c.$group.debug.safetensors" 2>/dev/null
      "$RELEASE" forward --model "$W/$c" --inputs "$W/probe.$group.safetensors" --hidden-states --out "$W/$c.$group.release.safetensors" 2>/dev/null
      "$P" numerics diff "$W/$c.$group.release.safetensors" "$W/$c.$group.debug.safetensors" --json | stages build "$c/$group" || true
    done
  done
fi
[ "$ONLY" = build ] && exit 0
if [ -n "$BASE" ]; then
  ln -sfn "$(realpath "$BASE")" "$W/base"
  [ -d "$W/base-bf16" ] || "$P" convert "$W/base" "$W/base-bf16" --dtype bf16 >/dev/null
  checkpoints="$checkpoints base"
fi
for c in $checkpoints; do
  "$P" numerics record --model "$W/$c" --probe builtin --threads 1 --out "$W/$c.t1.safetensors" 2>/dev/null
  "$P" numerics check --model "$W/$c" --baseline "$W/$c.t1.safetensors" --threads 2 --tolerance exact --json | stages threads "$c" || true
  "$P" numerics check --model "$W/$c-bf16" --baseline "$W/$c.t1.safetensors" --threads 1 --tolerance exact --json | stages bf16 "$c" || true
done
[ -n "$ONLY" ] && exit 0
# Other kernels: the numpy float32 reference of Tests/ModelTests/Fixtures (scripts/make_model_fixtures.py).
F=$ROOT/Tests/ModelTests/Fixtures
python3 -c 'import json,sys; [print(c["checkpoint"], c["case"]) for c in json.load(open(sys.argv[1]))]' "$F/manifest.json" |
while read -r checkpoint case; do
  "$P" forward --model "$F/$checkpoint" --inputs "$F/$checkpoint/$case.inputs.safetensors" --out "$W/numpy.$checkpoint.$case.safetensors" --hidden-states 2>/dev/null
  "$P" numerics diff "$W/numpy.$checkpoint.$case.safetensors" "$F/$checkpoint/$case.expected.safetensors" --json | stages numpy "$checkpoint/$case" || true
done
