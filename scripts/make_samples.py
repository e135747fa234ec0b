#!/usr/bin/env python3
"""Writes samples/: the first rows of each GLUE and XNLI file in ../shared/data, in the same layout, for
`make run` and demos (the project ships only small samples; full data is read through PIXELGPT_DATA).

Run by hand (output committed):   python3 scripts/make_samples.py [DATA_DIR] [ROWS]
Rows are copied byte for byte (header lines kept, MRPC's BOM included), so the readers meet the real formats.
"""
import os
import sys

DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
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
    keep = lines[: ROWS + (1 if header else 0)]
    os.makedirs(os.path.dirname(os.path.join(OUT, relative)), exist_ok=True)
    with open(os.path.join(OUT, relative), "wb") as f:
        f.write(b"\n".join(keep) + b"\n")
with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write(f"""# Samples

The first {ROWS} rows of the GLUE and XNLI files that `make run` evaluates, copied byte for byte from the
public releases (see ../../shared/data/PROVENANCE.md for sources and licences: GLUE terms, CC BY-SA 4.0
for QNLI, CC BY 4.0 for WNLI, CC BY-NC 4.0 for XNLI). Written by scripts/make_samples.py. For real
evaluations point `--data-dir` or PIXELGPT_DATA at the full data.
""")
print("wrote", len(FILES), "files to", os.path.normpath(OUT))
