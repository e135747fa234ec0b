#!/usr/bin/env python3
"""Writes the Hugging Face tokenizer.json form of a SentencePiece BPE tokenizer.model.

The layout is the one meta-llama/Llama-2-7b-hf ships (transformers' LlamaConverter with legacy=True):
a BPE model with vocab, merges and byte_fallback; the normalizer Prepend("▁") + Replace(" ", "▁"); the
post-processor "<s> $A" / "<s> $A <s> $B"; the ByteFallback decoder. Merges are generated as
transformers' SentencePieceExtractor does: every split of a piece into two pieces, ordered by the merged
piece's score (best first), then by the lengths of the halves.

    python3 scripts/tokenizer_json_from_model.py tokenizer.model tokenizer.json [--check-transformers]

Needs: sentencepiece. --check-transformers (needs transformers<5, tokenizers, protobuf) also asserts that
transformers' own converter gives the same vocab and merges and that the tokenizers library loads the file.
"""
import argparse
import json
import sys


def piece_types(model_path):
    """ModelProto.pieces[i].type, read from the protobuf wire format directly (sentencepiece's Python API
    cannot tell user-defined pieces apart, and this keeps the script free of a protobuf dependency)."""
    data = open(model_path, "rb").read()

    def varint(pos):
        result = shift = 0
        while True:
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result, pos
            shift += 7

    def skip(pos, wire):
        if wire == 0:
            return varint(pos)[1]
        if wire == 1:
            return pos + 8
        if wire == 5:
            return pos + 4
        if wire == 2:
            length, pos = varint(pos)
            return pos + length
        raise ValueError(f"unexpected wire type {wire}")

    types, pos = [], 0
    while pos < len(data):
        tag, pos = varint(pos)
        if tag == (1 << 3) | 2:  # pieces
            length, pos = varint(pos)
            end, kind = pos + length, 1  # NORMAL by default
            while pos < end:
                t, pos = varint(pos)
                if t == (3 << 3):
                    kind, pos = varint(pos)
                else:
                    pos = skip(pos, t & 7)
            types.append(kind)
        else:
            pos = skip(pos, tag & 7)
    return types


USER_DEFINED = 4


def build(model_path):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=model_path)
    n = sp.get_piece_size()
    types = piece_types(model_path)
    assert len(types) == n
    vocab = {sp.id_to_piece(i): i for i in range(n)}
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(n)}
    # Only pieces that BPE can produce take part in merges (not control, unknown or byte pieces).
    mergeable = {p for p, i in vocab.items() if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i))}
    merges = []
    for piece, score in scores.items():
        if piece not in mergeable:
            continue
        local = [(piece[:k], piece[k:], score) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: (m[2], len(m[0]), len(m[1])), reverse=True)

    # Control and unknown pieces are special added tokens; user-defined pieces are non-special ones (as
    # transformers' converter adds trainer_spec.user_defined_symbols).
    added = [i for i in range(n) if sp.is_control(i) or sp.is_unknown(i) or types[i] == USER_DEFINED]
    bos = sp.id_to_piece(sp.bos_id())
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": types[i] != USER_DEFINED} for i in added],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [sp.bos_id()], "tokens": [bos]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": sp.id_to_piece(sp.unk_id()),
                  "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": True, "vocab": vocab, "merges": [f"{a} {b}" for a, b, _ in merges]},
    }


def check_with_transformers(model_path, out_path, tokenizer_json):
    import tempfile

    import tokenizers
    from transformers import LlamaTokenizerFast

    theirs = LlamaTokenizerFast(vocab_file=model_path, legacy=True, from_slow=True)
    with tempfile.TemporaryDirectory() as d:
        theirs.save_pretrained(d)
        with open(f"{d}/tokenizer.json", encoding="utf-8") as f:
            converted = json.load(f)
    their_merges = [m if isinstance(m, str) else " ".join(m) for m in converted["model"]["merges"]]
    assert converted["model"]["vocab"] == tokenizer_json["model"]["vocab"], "vocab differs from transformers'"
    assert their_merges == tokenizer_json["model"]["merges"], "merges differ from transformers'"
    loaded = tokenizers.Tokenizer.from_file(out_path)
    assert loaded.get_vocab_size() == len(tokenizer_json["model"]["vocab"])
    print(f"transformers' LlamaConverter gives the same vocab and {len(their_merges)} merges; tokenizers loads the file",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--check-transformers", action="store_true")
    args = parser.parse_args()
    tokenizer_json = build(args.model)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False, separators=(",", ":"))
    if args.check_transformers:
        check_with_transformers(args.model, args.output, tokenizer_json)


if __name__ == "__main__":
    main()
