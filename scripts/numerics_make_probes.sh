#!/bin/bash
# Writes the committed built-in probes of `pixelgpt numerics record --probe builtin|builtin-small`
# (probes/*.safetensors) with the tool itself: token ids from the Llama-2 tokenizer, strips rendered by the
# project's renderer (renderers/noto). Baselines store their inputs, so re-running this never invalidates
# an existing baseline; it changes what new baselines are recorded on.
# Usage: scripts/numerics_make_probes.sh [PIXELGPT_BINARY] [TOKENIZER]
set -euo pipefail
cd "$(dirname "$0")/.."
P=${1:-.build/release/pixelgpt}
TOKENIZER=${2:-${PIXELGPT_DATA:-../shared/data}/tokenizer/llama2/tokenizer.model}
mkdir -p probes
for name in builtin builtin-small; do
  "$P" numerics make-probe --name $name --tokenizer "$TOKENIZER" --renderer "$(pwd)/renderers/noto" --out probes/$name.safetensors
done
ls -l probes
