#!/usr/bin/env python3
"""Writes samples/: the first rows of each GLUE and XNLI file in a data directory (default $PIXELGPT_DATA), in the same layout, for
`make run` and demos (the project ships only small samples; full data is read through PIXELGPT_DATA).

Run by hand (output committed):   python3 scripts/make_samples.py [DATA_DIR] [ROWS]
Rows are copied byte for byte (header lines kept, MRPC's BOM included), so the readers meet the real formats.
"""
import os
import sys

DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PIXELGPT_DATA") or sys.exit("make_samples.py: give DATA_DIR or set PIXELGPT_DATA")
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")

FILES = {  # file -> has a header line
    "glue/CoLA/dev.tsv": False, "glue/CoLA/train.tsv": False, "glue/SST-2/dev.tsv": True, "glue/SST-2/train.tsv": True,
    "glue/MRPC/dev.tsv": True, "glue/MRPC/train.tsv": True, "glue/STS-B/dev.tsv": True, "glue/STS-B/train.tsv": True,
    "glue/QNLI/dev.tsv": True, "glue/RTE/dev.tsv": True, "glue/RTE/train.tsv": True, "glue/WNLI/dev.tsv": True,
    "glue/WNLI/train.tsv": True,
}
for lang in "ar bg de el en es fr hi ru sw th tr ur vi zh".split():
    FILES[f"xnli/dev-{lang}.tsv"] = False

for relative, header in sorted(FILES.items()):
    with open(os.path.join(DATA, relative), "rb") as f:
        lines = f.read().split(b"\n")
    while lines and lines[-1] == b"":  # a file shorter than ROWS ends in a newline, not a blank row
        lines.pop()
    keep = lines[: ROWS + (1 if header else 0)]
    os.makedirs(os.path.dirname(os.path.join(OUT, relative)), exist_ok=True)
    with open(os.path.join(OUT, relative), "wb") as f:
        f.write(b"\n".join(keep) + b"\n")
with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write(f"""# Samples

The first {ROWS} rows of the GLUE and XNLI files that `make run` evaluates, copied byte for byte from public
copies of the original releases, in their layout, so that the readers meet the real formats:

| files | source | licence |
|---|---|---|
| glue/CoLA, glue/SST-2, glue/STS-B: train.tsv, dev.tsv | the GLUE benchmark's TSV files | GLUE terms (STS-B: its own LICENSE.txt) |
| glue/MRPC: train.tsv, dev.tsv (header with a UTF-8 BOM) | the GLUE benchmark's TSV files | MRPC terms |
| glue/QNLI: dev.tsv | the GLUE benchmark's TSV file | CC BY-SA 4.0 |
| glue/RTE: train.tsv, dev.tsv | Hugging Face `glue` parquet, in GLUE's TSV layout | GLUE terms |
| glue/WNLI: train.tsv, dev.tsv | dev: GLUE's TSV; train: Hugging Face `glue` parquet in that layout | CC BY 4.0 |
| xnli/dev-LANG.tsv (15 languages; premise, hypothesis, label; no header) | XNLI 1.0's dev set | CC BY-NC 4.0 |

Not here, because no labelled public copy was at hand offline: MNLI (so AX, which MNLI's head predicts),
QQP, QNLI's train split and XNLI's labelled test set. `make run` therefore evaluates CoLA, SST-2, MRPC, STS-B,
QNLI, RTE, WNLI and XNLI on their validation split (XNLI's probe is cross-fitted over the dev rows; QNLI's
too). `pixelgpt tasks --data-dir samples` lists what is present. Written by scripts/make_samples.py. For real
evaluations point `--data-dir` or PIXELGPT_DATA at the full data.
""")
print("wrote", len(FILES), "files to", os.path.normpath(OUT))
