#!/usr/bin/env python3
"""Compares `pixelgpt tokenize --input` with the Python sentencepiece package (the reference, SPEC 6).

Every premise and hypothesis of the 15 XNLI dev files and every sentence of the GLUE dev files is
encoded alone ([1] + A) and as a pair with its partner ([1] + A + [1] + B) by
SentencePieceProcessor.encode with BOS added, and by the Swift tool; any differing sequence is reported.

    python3 scripts/compare_tokenizer.py --data ../shared/data --pixelgpt .build/debug/pixelgpt \
        [--tokenizer PATH] [--max-failures N]
    python3 scripts/compare_tokenizer.py --data ../shared/data --write-reference FILE.jsonl

The second form writes every input with the reference ids, {"text", "text_pair"?, "ids"} per line, for
the Swift test suite to compare in-process (TextTests, when PIXELGPT_DATA is set).
Exit status 0 only when no sequence differs. Needs: sentencepiece.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

XNLI_LANGUAGES = "ar bg de el en es fr hi ru sw th tr ur vi zh".split()


def read_tsv(path, header):
    """Rows of a GLUE/XNLI TSV exactly as the files hold them (no quoting, as GLUE's own readers)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = [line.rstrip("\n").rstrip("\r").split("\t") for line in f]
    if header:
        names, rows = rows[0], rows[1:]
        return names, rows
    return None, rows


def glue_dev_texts(data):
    """(name, first, second-or-None) for every GLUE dev example, each task with its own column layout."""
    out = []
    glue = os.path.join(data, "glue")
    _, rows = read_tsv(os.path.join(glue, "CoLA", "dev.tsv"), header=False)
    out += [("CoLA", r[3], None) for r in rows]
    for task, a, b in [("SST-2", "sentence", None), ("MRPC", "#1 String", "#2 String"),
                       ("STS-B", "sentence1", "sentence2"), ("QNLI", "question", "sentence"),
                       ("RTE", "sentence1", "sentence2"), ("WNLI", "sentence1", "sentence2")]:
        names, rows = read_tsv(os.path.join(glue, task, "dev.tsv"), header=True)
        ia = names.index(a)
        ib = names.index(b) if b else None
        for r in rows:
            out.append((task, r[ia], r[ib] if ib is not None else None))
    return out


def xnli_dev_texts(data):
    out = []
    for lang in XNLI_LANGUAGES:
        _, rows = read_tsv(os.path.join(data, "xnli", f"dev-{lang}.tsv"), header=False)
        out += [(f"xnli-{lang}", r[0], r[1]) for r in rows]
    return out


def all_inputs(data):
    """The comparison set: each text alone, and each example with a partner as a pair."""
    inputs = []
    for name, a, b in xnli_dev_texts(data) + glue_dev_texts(data):
        inputs.append((name, a, None))
        if b is not None:
            inputs.append((name, b, None))
            inputs.append((name, a, b))
    return inputs


def reference_ids(processor, inputs):
    """[1] + A, or [1] + A + [1] + B, from SentencePieceProcessor.encode (one batch call per side)."""
    firsts = processor.encode([a for _, a, _ in inputs])
    seconds = processor.encode([b for _, _, b in inputs if b is not None])
    it = iter(seconds)
    out = []
    for (_, _, b), ids in zip(inputs, firsts):
        out.append([1] + ids + ([1] + next(it) if b is not None else []))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("PIXELGPT_DATA", "../shared/data"))
    parser.add_argument("--pixelgpt", help="path of the built pixelgpt executable")
    parser.add_argument("--write-reference", metavar="FILE", help="write inputs and reference ids, compare nothing")
    parser.add_argument("--tokenizer", help="tokenizer for pixelgpt (default: DATA/tokenizer/llama2/tokenizer.model)")
    parser.add_argument("--max-failures", type=int, default=5)
    args = parser.parse_args()

    import sentencepiece as spm

    model = os.path.join(args.data, "tokenizer", "llama2", "tokenizer.model")
    processor = spm.SentencePieceProcessor(model_file=model)
    inputs = all_inputs(args.data)
    started = time.perf_counter()
    expected = reference_ids(processor, inputs)
    reference_seconds = time.perf_counter() - started

    if args.write_reference:
        with open(args.write_reference, "w", encoding="utf-8") as f:
            for (_, a, b), ids in zip(inputs, expected):
                entry = {"text": a, "text_pair": b, "ids": ids} if b is not None else {"text": a, "ids": ids}
                f.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(json.dumps({"sequences": len(inputs), "reference_seconds": round(reference_seconds, 3)}))
        return 0
    if not args.pixelgpt:
        parser.error("give --pixelgpt or --write-reference")
    lines = "".join(json.dumps({"text": a, "text_pair": b} if b is not None else {"text": a}, ensure_ascii=False) + "\n"
                    for _, a, b in inputs)
    result = subprocess.run([args.pixelgpt, "tokenize", "--tokenizer", args.tokenizer or model, "--input", "-"],
                            input=lines.encode("utf-8"), capture_output=True)
    if result.returncode != 0:
        print(f"pixelgpt failed ({result.returncode}): {result.stderr.decode(errors='replace')}", file=sys.stderr)
        return 2
    got = [json.loads(line)["ids"] for line in result.stdout.decode().splitlines()]
    if len(got) != len(inputs):
        print(f"pixelgpt wrote {len(got)} lines for {len(inputs)} inputs", file=sys.stderr)
        return 2
    differing = [i for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    for i in differing[: args.max_failures]:
        name, a, b = inputs[i]
        print(f"DIFF {name}: {json.dumps({'text': a, 'text_pair': b}, ensure_ascii=False)}\n  reference {expected[i]}\n  pixelgpt  {got[i]}",
              file=sys.stderr)
    singles = sum(1 for _, _, b in inputs if b is None)
    summary = {"sequences": len(inputs), "single": singles, "pairs": len(inputs) - singles, "differing": len(differing),
               "reference_seconds": round(reference_seconds, 3), "pixelgpt_log": result.stderr.decode(errors="replace").strip().splitlines()[-1:]}
    print(json.dumps(summary))
    return 0 if not differing else 1


if __name__ == "__main__":
    sys.exit(main())
