#!/usr/bin/env bash
# Renders every golden render case with the built `pixelgpt render --input` and compares the layout
# (num_text_patches, sep_patches) with cases.jsonl; prints the throughput for 1 and N threads.
# Pixel equality is the job of Tests/RenderTests/GoldenRenderTests.swift; this checks the command end to end.
# Usage: scripts/render_golden_check.sh [PIXELGPT_BINARY] [THREADS]   (golden folder: $PIXELGPT_GOLDEN or ../shared/golden)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/pixelgpt}"
threads="${2:-2}"
golden="${PIXELGPT_GOLDEN:-$root/../shared/golden}/render"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$golden/cases.jsonl" "$work/in.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        case = json.loads(line)
        row = {"max_seq_length": case["max_seq_length"], "mode": case["mode"]}
        if case["kind"] == "pair":
            row["text"], row["text_pair"] = case["text_pair"]
        else:
            row["text"] = case["text"]
        dst.write(json.dumps(row, ensure_ascii=False) + "\n")
PY
for t in 1 "$threads"; do
    "$bin" render --input "$work/in.jsonl" --out-dir "$work/out-$t" --threads "$t" 2>&1 >/dev/null | grep '^rendered'
    python3 - "$golden/cases.jsonl" "$work/out-$t/results.jsonl" <<'PY'
import json, sys
golden = [json.loads(l) for l in open(sys.argv[1])]
ours = [json.loads(l) for l in open(sys.argv[2])]
bad = [g["id"] for g, o in zip(golden, ours)
       if (g["num_text_patches"], g["sep_patches"]) != (o["num_text_patches"], o["sep_patches"])]
print(f"layout: {len(golden) - len(bad)}/{len(golden)} cases match" + (f"; mismatches: {bad[:10]}" if bad else ""))
sys.exit(1 if bad or len(ours) != len(golden) else 0)
PY
done
