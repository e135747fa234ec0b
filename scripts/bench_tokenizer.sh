#!/usr/bin/env bash
# Sentences per second of `pixelgpt tokenize` and of the Python sentencepiece package on every premise
# and hypothesis of the 15 XNLI dev files (74,700 sentences), measured in one run on the same machine.
# pixelgpt's time is its own encode loop (it logs it on stderr; file reading and JSON output excluded);
# Python's is SentencePieceProcessor.encode, one call per sentence and one batched call, single-threaded
# (num_threads=1) and with the package's default threads; pixelgpt with --threads 1 and --threads $(nproc).
# Also checks that both give the same ids.
#
#   scripts/bench_tokenizer.sh [PIXELGPT_EXECUTABLE]     (default: a release build in .build-text-release)
# Needs: python3 with sentencepiece; PIXELGPT_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${PIXELGPT_DATA:-../shared/data}"
MODEL="$DATA/tokenizer/llama2/tokenizer.model"
BIN="${1:-}"
if [ -z "$BIN" ]; then
  cpu="$(scripts/cpu-target.sh)"
  flags=(-c release --scratch-path .build-text-release -Xswiftc -cross-module-optimization)
  [ -n "$cpu" ] && flags+=(-Xswiftc -target-cpu -Xswiftc "$cpu")
  swift build "${flags[@]}" --product pixelgpt >&2
  BIN="$(swift build "${flags[@]}" --show-bin-path)/pixelgpt"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$DATA" "$work/xnli.jsonl" <<'PY'
import json, sys
data, out = sys.argv[1:]
with open(out, "w", encoding="utf-8") as f:
    for lang in "ar bg de el en es fr hi ru sw th tr ur vi zh".split():
        for line in open(f"{data}/xnli/dev-{lang}.tsv", encoding="utf-8"):
            premise, hypothesis = line.rstrip("\n").split("\t")[:2]
            for text in (premise, hypothesis):
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
PY

# Best of three runs of pixelgpt's own timing, with THREADS threads.
best_rate() {
  local best="" rate
  for run in 1 2 3; do
    "$BIN" tokenize --tokenizer "$MODEL" --input "$work/xnli.jsonl" --threads "$1" >"$work/swift-$1.jsonl" 2>"$work/swift.log"
    rate="$(grep -o '[0-9]* inputs/s' "$work/swift.log" | grep -o '^[0-9]*')"
    if [ -z "$best" ] || [ "$rate" -gt "$best" ]; then best="$rate"; fi
  done
  echo "$best"
}
THREADS="$(nproc)"
single="$(best_rate 1)"
multi="$(best_rate "$THREADS")"
cmp -s "$work/swift-1.jsonl" "$work/swift-$THREADS.jsonl" || { echo "output depends on --threads" >&2; exit 1; }

python3 - "$MODEL" "$work/xnli.jsonl" "$work/swift-1.jsonl" "$single" "$multi" "$THREADS" <<'PY'
import json, sys, time
import sentencepiece as spm
model, inputs, swift_out, swift_rate, swift_multi, threads = sys.argv[1:]
texts = [json.loads(l)["text"] for l in open(inputs, encoding="utf-8")]
sp = spm.SentencePieceProcessor(model_file=model)

def best_of(fn, runs=3):
    times = []
    for _ in range(runs):
        t = time.perf_counter(); result = fn(); times.append(time.perf_counter() - t)
    return result, min(times)

loop_ids, loop_s = best_of(lambda: [sp.encode(t) for t in texts])
_, batch1_s = best_of(lambda: sp.encode(texts, num_threads=1))
_, batch_s = best_of(lambda: sp.encode(texts))
swift_ids = [json.loads(l)["ids"] for l in open(swift_out)]
same = sum(1 for a, b in zip(loop_ids, swift_ids) if [1] + a == b)
n = len(texts)
print(json.dumps({
    "sentences": n,
    "identical_ids": same,
    "pixelgpt_1_thread_sentences_per_s": int(swift_rate),
    f"pixelgpt_{threads}_threads_sentences_per_s": int(swift_multi),
    "sentencepiece_per_call_sentences_per_s": round(n / loop_s),
    "sentencepiece_batch_1_thread_sentences_per_s": round(n / batch1_s),
    f"sentencepiece_batch_default_threads_sentences_per_s ({threads} cores)": round(n / batch_s),
}, indent=1))
sys.exit(0 if same == n else 1)
PY
