#!/usr/bin/env python3
"""Writes the tokenizer fixtures of Tests/TextTests/Fixtures with the reference implementations (run by
hand; outputs are committed):

- llama2_golden.json: ids and decoded text from the Python sentencepiece package for the Llama-2
  tokenizer.model (the ids the Swift tokenizer must reproduce; the model itself stays in the data
  directory): a spread of premises and hypotheses from all 15 XNLI dev files, GLUE dev sentences and
  edge cases; decodes of hand-picked id lists; and pair truncation (longest_first) computed by the
  Hugging Face tokenizers library, which the fine-tuning scripts' fast tokenizer uses.
- tiny_llama_like.model / .json / _golden.json: a small BPE model trained here with Llama-2's
  settings plus user-defined and control pieces, its tokenizer.json (scripts/tokenizer_json_from_model.py)
  and its reference ids.
- tiny_variants.model / _golden.json: a small BPE model with the other settings (no byte fallback, so
  unknown pieces; extra spaces removed; no dummy prefix; other special ids; an unused piece).

    python3 scripts/make_tokenizer_fixtures.py --data ../shared/data
Needs: sentencepiece, protobuf, tokenizers.
"""
import argparse
import io
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "TextTests", "Fixtures")
LANGUAGES = "ar bg de el en es fr hi ru sw th tr ur vi zh".split()

EDGE_CASES = [
    "", " ", "  ", "   ", "a", " a", "a ", "  leading spaces", "trailing spaces   ", "multiple    spaces   inside",
    "a" + " " * 40 + "b", " " * 33, "\t", "\ttab\tseparated\t", "\n", "line one\nline two\r\nline three\r", "\n\n\n",
    " \t \n ", "emoji 😀👍🏽🇩🇪 end", "👨‍👩‍👧‍👦", "😀", " 😀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ᚠᛇᚻ 𓀀 𐍈", "\u0000", "nul\u0000inside",
    "\u007f\u0001\u001b", "<s>", "</s>", "<unk>", "<s>text</s>", "<pad>", "<0x41>", "<0xZZ>", "▁", "▁▁", "▁ ▁",
    " ⁇ ", "e\u0301 vs \u00e9", "\u03af vs \u1f77", "zero\u200bwidth", "nbsp\u00a0x", "ideographic\u3000space",
    "full-width ＡＢＣ１２３", "ﬁ ligature", "\ufeffBOM first", "\U0010ffff", "\ue000 private use",
    "1234567890 3.14159 1,000,000", "CamelCaseWordsHere", "https://example.com/path?q=1&r=2#frag",
    "ALL CAPS SENTENCE.", "mixed русский English 中文 العربية", "Ελληνικά", "हिन्दी", "ไทย", "Tiếng Việt",
    "Türkçe", "اردو", "Kiswahili", "Български", "a" * 300, "ab" * 150, "ж" * 100, "!!!???...,,,;;;",
    "\"quoted\" 'single' `back`", "tab\tand space ", "ends with newline\n", "🙂🙂🙂🙂🙂", "x" + "\u0301" * 10,
]


def read_rows(path, header):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = [line.rstrip("\n").rstrip("\r").split("\t") for line in f]
    return (rows[0], rows[1:]) if header else (None, rows)


def sample_strings(data):
    """10 premises and 10 hypotheses of each XNLI dev file, 5 sentences of each GLUE dev file."""
    out = []
    for lang in LANGUAGES:
        _, rows = read_rows(os.path.join(data, "xnli", f"dev-{lang}.tsv"), header=False)
        for k in range(10):
            row = rows[k * 249]
            out += [row[0], row[1]]
    glue = os.path.join(data, "glue")
    _, rows = read_rows(os.path.join(glue, "CoLA", "dev.tsv"), header=False)
    out += [rows[k * 200][3] for k in range(5)]
    for task, col in [("SST-2", "sentence"), ("MRPC", "#1 String"), ("STS-B", "sentence1"), ("QNLI", "question"),
                      ("RTE", "sentence2"), ("WNLI", "sentence1")]:
        names, rows = read_rows(os.path.join(glue, task, "dev.tsv"), header=True)
        out += [rows[k * (len(rows) // 5)][names.index(col)] for k in range(5)]
    return out


def truncation_cases(data, sp, tokenizer_json):
    """Pairs and singles truncated longest_first by the tokenizers library (with its own post-processor)."""
    import tokenizers

    tok = tokenizers.Tokenizer.from_file(tokenizer_json)
    cases = []
    for i, lang in enumerate(LANGUAGES):
        _, rows = read_rows(os.path.join(data, "xnli", f"dev-{lang}.tsv"), header=False)
        for k in range(3):
            a, b = rows[100 + 300 * k + i][:2]
            full = [1] + sp.encode(a) + [1] + sp.encode(b)
            tok.no_truncation()
            # The tokenizers library's own BPE must agree with sentencepiece on these, or its truncation
            # would be measured on different ids.
            assert tok.encode(a, b).ids == full, (a, b)
            for max_length in (2, 3, 8, 17, 32, 64, 256):
                tok.enable_truncation(max_length=max_length, strategy="longest_first")
                cases.append({"text": a, "text_pair": b, "max_length": max_length, "ids": tok.encode(a, b).ids})
            for max_length in (2, 5, 16):
                tok.enable_truncation(max_length=max_length, strategy="longest_first")
                cases.append({"text": a, "max_length": max_length, "ids": tok.encode(a).ids})
    return cases


DECODE_IDS = [[], [1], [1, 2], [0], [1, 0, 2], [243, 162, 155, 131], [243, 162], [29871, 243, 162, 29871],
              [162, 155, 131], [259, 22172], [29871, 22172], [13, 29871, 259, 13], [3, 4, 200, 255, 258],
              [22172, 1, 3186, 2, 29871], [1, 29871, 1, 29871], [259], [29871], [200, 29871, 22172]]


def write_json(path, value):
    """Compact JSON with one list entry per line, so that diffs of regenerated fixtures stay readable."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        for k, (key, item) in enumerate(value.items()):
            f.write(json.dumps(key) + ": ")
            if isinstance(item, list):
                f.write("[\n" + ",\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in item) + "\n]")
            else:
                f.write(json.dumps(item, ensure_ascii=False))
            f.write(",\n" if k + 1 < len(value) else "\n")
        f.write("}\n")


def goldens(sp, strings):
    entries = []
    for s in strings:
        ids = sp.encode(s, add_bos=True)
        entries.append({"text": s, "ids": ids, "pieces": [sp.id_to_piece(i) for i in ids], "decoded": sp.decode(ids)})
    return entries


def train_tiny(prefix, corpus, **options):
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_prefix=prefix, model_type="bpe",
                                   normalization_rule_name="identity", num_threads=1, minloglevel=2, **options)
    os.remove(prefix + ".vocab")


def mark_unused(model_path, count):
    """Marks `count` merged (multi-character) pieces from the middle of the vocabulary as UNUSED."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    with open(model_path, "rb") as f:
        m.ParseFromString(f.read())
    marked = []
    for i in range(len(m.pieces) // 2, len(m.pieces)):
        p = m.pieces[i]
        if p.type == pb.ModelProto.SentencePiece.NORMAL and len(p.piece) >= 3 and len(marked) < count:
            p.type = pb.ModelProto.SentencePiece.UNUSED
            marked.append(p.piece)
    with open(model_path, "wb") as f:
        f.write(m.SerializeToString())
    return marked


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("PIXELGPT_DATA", "../shared/data"))
    args = parser.parse_args()
    import sentencepiece as spm

    os.makedirs(FIXTURES, exist_ok=True)
    strings = EDGE_CASES + sample_strings(args.data)
    llama_model = os.path.join(args.data, "tokenizer", "llama2", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=llama_model)
    llama_json = os.path.join(FIXTURES, "llama2.tmp-tokenizer.json")
    subprocess.run([sys.executable, os.path.join(HERE, "tokenizer_json_from_model.py"), llama_model, llama_json], check=True)
    try:
        truncation = truncation_cases(args.data, sp, llama_json)
    finally:
        os.remove(llama_json)
    golden = {
        "source": "make_tokenizer_fixtures.py; sentencepiece " + spm.__version__,
        "model_sha256": "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347",
        "encode": goldens(sp, strings),
        "decode": [{"ids": ids, "decoded": sp.decode(ids)} for ids in DECODE_IDS],
        "truncation": truncation,
    }
    write_json(os.path.join(FIXTURES, "llama2_golden.json"), golden)

    # Tiny models, trained on a small sample of XNLI dev text (a few hundred lines).
    corpus = []
    for lang in ("en", "de", "fr", "ru", "el", "zh", "hi"):
        _, rows = read_rows(os.path.join(args.data, "xnli", f"dev-{lang}.tsv"), header=False)
        corpus += [r[0] for r in rows[:120]]
    tiny_strings = EDGE_CASES + ["<mask> and [SEP] are user-defined", "a<mask>b[SEP]c", "<ctrl> is control text",
                                 "<mask><mask>", " [SEP] "] + sample_strings(args.data)[::3]

    prefix = os.path.join(FIXTURES, "tiny_llama_like")
    train_tiny(prefix, corpus, vocab_size=1200, byte_fallback=True, character_coverage=0.995,
               add_dummy_prefix=True, remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
               split_digits=True, user_defined_symbols=["<mask>", "[SEP]"], control_symbols=["<ctrl>"])
    subprocess.run([sys.executable, os.path.join(HERE, "tokenizer_json_from_model.py"), prefix + ".model", prefix + ".json"],
                   check=True)
    tiny = spm.SentencePieceProcessor(model_file=prefix + ".model")
    write_json(prefix + "_golden.json", {"source": "make_tokenizer_fixtures.py; sentencepiece " + spm.__version__,
                                         "encode": goldens(tiny, tiny_strings)})

    prefix = os.path.join(FIXTURES, "tiny_variants")
    train_tiny(prefix, corpus, vocab_size=900, byte_fallback=False, character_coverage=0.98,
               add_dummy_prefix=False, remove_extra_whitespaces=True, unk_id=3, bos_id=0, eos_id=1, pad_id=2,
               user_defined_symbols=["<mask>"])
    unused = mark_unused(prefix + ".model", 8)
    tiny = spm.SentencePieceProcessor(model_file=prefix + ".model")
    unused_texts = ["".join(p.replace("\u2581", " ") for p in unused), " ".join(u.replace("\u2581", "") for u in unused)]
    write_json(prefix + "_golden.json", {"source": "make_tokenizer_fixtures.py; sentencepiece " + spm.__version__,
                                         "unused_pieces": unused, "encode": goldens(tiny, tiny_strings + unused_texts)})
    for name in sorted(os.listdir(FIXTURES)):
        print(f"{name}: {os.path.getsize(os.path.join(FIXTURES, name))} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
