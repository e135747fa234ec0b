#!/usr/bin/env python3
"""Golden fixtures for the Model tests: small random PixelGPT checkpoints in the released layout, inputs in
all three modalities, and the outputs an independent reference computes for them.

The reference below is written from ../shared/SPEC.md sections 3 and 4 (the upstream ErniePixel forward in
PyTorch fp32 eager, transformers 4.36.2), in numpy float32, deliberately in the upstream's own shapes: a real
convolution for the patch embedding, a full [B, n_h, L, L] additive mask with finfo(fp32).min, repeat_kv for
GQA, rotate_half RoPE, the score head applied at every position and then gathered. It does not follow the
Swift code.

Run by hand from the repository root (needs numpy only); outputs are committed:
    python3 scripts/make_model_fixtures.py Tests/ModelTests/Fixtures
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

F32 = np.float32
MIN = np.finfo(np.float32).min

# ---------------------------------------------------------------- safetensors (written by hand: numpy only)

def to_bf16_bits(a):
    """float32 -> bfloat16 bits, round to nearest even."""
    bits = np.ascontiguousarray(a, dtype=F32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def from_bf16_bits(b):
    return (b.astype(np.uint32) << 16).view(F32)


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype string, numpy array already in that dtype's storage form)."""
    size = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
    # Larger elements first so that every tensor starts aligned for its dtype.
    names = sorted(tensors, key=lambda n: (-size[tensors[n][0]], n))
    header, blobs, offset = {}, [], 0
    for name in names:
        dtype, array = tensors[name]
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


# ---------------------------------------------------------------- the reference forward pass (SPEC 3, 4)

def rms_norm(x, weight, eps):
    # SPEC 3.6.2: fp32 statistics, normalise, then multiply by the weight.
    variance = np.mean(x.astype(F32) ** 2, axis=-1, keepdims=True)
    return weight * (x / np.sqrt(variance + F32(eps)))


def layer_norm(x, weight, bias, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + F32(eps)) * weight + bias


def patch_embed(pixels, w):
    # SPEC 3.2: Conv2d(3, H, kernel 16, stride 16) on [B, 3, 16, W], then LayerNorm(eps 1e-5); no position.
    b, c, height, width = pixels.shape
    p = width // 16
    patches = pixels.reshape(b, c, 16, p, 16)  # [b, c, y, n, x]
    conv = np.einsum("ocyx,bcynx->bno", w["model.embed_patches.patch_embeddings.projection.weight"], patches,
                     optimize=True).astype(F32)
    conv = conv + w["model.embed_patches.patch_embeddings.projection.bias"]
    return layer_norm(conv, w["model.embed_patches.patch_embeddings.norm.weight"],
                      w["model.embed_patches.patch_embeddings.norm.bias"])


def rope_tables(cfg, seq_len):
    d = cfg["hidden_size"] // cfg["num_attention_heads"]
    base = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling")
    max_pos = cfg.get("max_position_embeddings", 2048)
    if scaling and scaling["type"] == "dynamic" and seq_len > max_pos:
        f = scaling["factor"]
        base = base * ((f * seq_len / max_pos) - (f - 1)) ** (d / (d - 2))
    inv_freq = F32(1.0) / (F32(base) ** (np.arange(0, d, 2, dtype=F32) / F32(d)))
    t = np.arange(seq_len, dtype=F32)
    if scaling and scaling["type"] == "linear":
        t = t / F32(scaling["factor"])
    freqs = np.outer(t, inv_freq).astype(F32)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb).astype(F32), np.sin(emb).astype(F32)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def attention(h, w, prefix, cfg, mask4d, cos, sin):
    b, L, H = h.shape
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = H // n_h

    def proj(name):
        y = h @ w[prefix + f"self_attn.{name}.weight"].T
        if cfg.get("attention_bias"):
            y = y + w[prefix + f"self_attn.{name}.bias"]
        return y

    q = proj("q_proj").reshape(b, L, n_h, d).transpose(0, 2, 1, 3)
    k = proj("k_proj").reshape(b, L, n_kv, d).transpose(0, 2, 1, 3)
    v = proj("v_proj").reshape(b, L, n_kv, d).transpose(0, 2, 1, 3)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    # repeat_kv: KV head g serves query heads g*n_rep ... g*n_rep + n_rep - 1.
    k = np.repeat(k, n_h // n_kv, axis=1)
    v = np.repeat(v, n_h // n_kv, axis=1)
    scores = (q @ k.transpose(0, 1, 3, 2)) / F32(np.sqrt(d)) + mask4d
    scores = scores - scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    out = (probs @ v).transpose(0, 2, 1, 3).reshape(b, L, n_h * d)
    out = out @ w[prefix + "self_attn.o_proj.weight"].T
    if cfg.get("attention_bias"):
        out = out + w[prefix + "self_attn.o_proj.bias"]
    return out


def silu(z):
    return z * (F32(1) / (F32(1) + np.exp(-z)))


def forward(cfg, w, input_ids=None, attention_mask=None, pixel_values=None, patch_attention_mask=None):
    eps = cfg.get("rms_norm_eps", 1e-6)
    parts, masks = [], []
    if pixel_values is not None:
        parts.append(patch_embed(pixel_values, w))
    if input_ids is not None:
        parts.append(w["model.embed_tokens.weight"][input_ids])
    x = np.concatenate(parts, axis=1).astype(F32)
    b, L, H = x.shape
    if pixel_values is not None and input_ids is not None:
        mask2d = np.concatenate([patch_attention_mask, attention_mask], axis=1)
    else:
        mask2d = attention_mask
    # SPEC 3.5: 0 where j <= i and mask[b, j] != 0, finfo.min elsewhere (masked fill, never summed).
    causal = np.tril(np.ones((L, L), dtype=bool))
    allowed = causal[None, :, :] & (mask2d[:, None, :] != 0)
    mask4d = np.where(allowed, F32(0), MIN).astype(F32)[:, None, :, :]
    cos, sin = rope_tables(cfg, L)  # positions 0..L-1 for every row (SPEC 3.4)
    hidden = [x]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        r = x + attention(rms_norm(x, w[p + "input_layernorm.weight"], eps), w, p, cfg, mask4d, cos, sin)
        h2 = rms_norm(r, w[p + "post_attention_layernorm.weight"], eps)
        mlp = (silu(h2 @ w[p + "mlp.gate_proj.weight"].T) * (h2 @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
        x = (r + mlp).astype(F32)
        hidden.append(x)
    last = rms_norm(x, w["model.norm.weight"], eps).astype(F32)
    out = {"last_hidden_state": last}
    P = pixel_values.shape[3] // 16 if pixel_values is not None else 0
    if "lm_token_head.weight" in w and input_ids is not None:
        out["token_logits"] = last[:, P:] @ w["lm_token_head.weight"].T
    if "lm_pixel_head.weight" in w and pixel_values is not None:
        out["pixel_logits"] = last[:, :P] @ w["lm_pixel_head.weight"].T
    if "score.weight" in w:
        logits_all = last @ w["score.weight"].T  # every position, then gather (SPEC 4)
        pad = cfg.get("pad_token_id", 2)
        if input_ids is not None:
            first_pad = np.argmax(input_ids == pad, axis=-1)
        if pixel_values is not None and input_ids is not None:
            index = P + first_pad - 1
        elif input_ids is not None:
            index = first_pad - 1
        else:
            index = attention_mask.sum(-1).astype(np.int64) - 1
        out["pooled_logits"] = logits_all[np.arange(b), index]
        out["pooled_index"] = (index % L).astype(np.int64)
    for i, hs in enumerate(hidden):
        out[f"hidden_states.{i}"] = hs
    return {k: (v.astype(F32) if v.dtype != np.int64 else v) for k, v in out.items()}


# ---------------------------------------------------------------- checkpoints and inputs

def linear_weight(rng, out_f, in_f):
    return (rng.standard_normal((out_f, in_f)) / np.sqrt(in_f)).astype(F32)


def make_weights(rng, cfg, layout):
    """layout: 'causal' (ErniePixelForCausalLM), 'classifier' (SequenceClassification), 'llama' or 'bare'."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = H // n_h
    w = {}
    if layout != "llama":
        w["model.embed_patches.patch_embeddings.projection.weight"] = (rng.standard_normal((H, 3, 16, 16)) / np.sqrt(768)).astype(F32)
        w["model.embed_patches.patch_embeddings.projection.bias"] = (0.1 * rng.standard_normal(H)).astype(F32)
        w["model.embed_patches.patch_embeddings.norm.weight"] = (1 + 0.3 * rng.standard_normal(H)).astype(F32)
        w["model.embed_patches.patch_embeddings.norm.bias"] = (0.1 * rng.standard_normal(H)).astype(F32)
    w["model.embed_tokens.weight"] = rng.standard_normal((V, H)).astype(F32)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = (1 + 0.3 * rng.standard_normal(H)).astype(F32)
        w[p + "self_attn.q_proj.weight"] = 2 * linear_weight(rng, n_h * d, H)
        w[p + "self_attn.k_proj.weight"] = 2 * linear_weight(rng, n_kv * d, H)
        w[p + "self_attn.v_proj.weight"] = linear_weight(rng, n_kv * d, H)
        w[p + "self_attn.o_proj.weight"] = linear_weight(rng, H, n_h * d)
        if cfg.get("attention_bias"):
            for name, n in (("q_proj", n_h * d), ("k_proj", n_kv * d), ("v_proj", n_kv * d), ("o_proj", H)):
                w[p + f"self_attn.{name}.bias"] = (0.1 * rng.standard_normal(n)).astype(F32)
        w[p + "post_attention_layernorm.weight"] = (1 + 0.3 * rng.standard_normal(H)).astype(F32)
        w[p + "mlp.gate_proj.weight"] = linear_weight(rng, I, H)
        w[p + "mlp.up_proj.weight"] = linear_weight(rng, I, H)
        w[p + "mlp.down_proj.weight"] = linear_weight(rng, H, I)
    w["model.norm.weight"] = (1 + 0.3 * rng.standard_normal(H)).astype(F32)
    if layout in ("causal", "llama"):
        w["lm_token_head.weight"] = linear_weight(rng, V, H)
    if layout == "causal":
        w["lm_pixel_head.weight"] = linear_weight(rng, 768, H)
    if layout == "classifier":
        w["score.weight"] = linear_weight(rng, cfg["num_labels"], H)
    return w


def stored_name(name, layout):
    if layout == "llama" and name == "lm_token_head.weight":
        return "lm_head.weight"
    if layout == "bare":
        return name[len("model."):]
    return name


def save_checkpoint(directory, cfg, w, layout, dtype):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    tensors, used = {}, {}
    for name, value in w.items():
        if dtype == "F16":
            stored = value.astype(np.float16)
            used[name] = stored.astype(F32)
        elif dtype == "BF16":
            stored = to_bf16_bits(value)
            used[name] = from_bf16_bits(stored).reshape(value.shape)
        else:
            stored = value
            used[name] = value
        tensors[stored_name(name, layout)] = (dtype, stored)
    write_safetensors(os.path.join(directory, "model.safetensors"), tensors, {"format": "pt"})
    return used  # the values the model will see (after rounding to the stored dtype)


def text_batch(rng, vocab, lengths, total, side):
    """Token ids avoiding the pad id 2 in content; padding is id 2 with mask 0, on `side`."""
    ids = np.full((len(lengths), total), 2, dtype=np.int64)
    mask = np.zeros((len(lengths), total), dtype=np.int64)
    for b, n in enumerate(lengths):
        content = rng.integers(3, vocab, n)
        content[0] = 1  # <s>
        if side == "right":
            ids[b, :n], mask[b, :n] = content, 1
        else:
            ids[b, total - n:], mask[b, total - n:] = content, 1
    return ids, mask


def pixel_batch(rng, real_patches, total, side="right"):
    """Strips in [0, 1]; white after the text and a black end patch, as rendered (SPEC 5); mask = real + 1."""
    pixels = np.ones((len(real_patches), 3, 16, 16 * total), dtype=F32)
    mask = np.zeros((len(real_patches), total), dtype=F32)
    for b, n in enumerate(real_patches):
        start = 0 if side == "right" else total - min(n + 1, total)
        pixels[b, :, :, 16 * start:16 * (start + n)] = rng.random((3, 16, 16 * n)).astype(F32)
        if start + n < total:
            pixels[b, :, :, 16 * (start + n):16 * (start + n + 1)] = 0  # black end-of-sequence patch
        mask[b, start:start + min(n + 1, total)] = 1
    return pixels, mask


def main(root):
    rng = np.random.default_rng(20240404)
    os.makedirs(root, exist_ok=True)
    manifest = []

    base_cfg = {"model_type": "ernie-pixel", "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
                "patch_size": 16, "num_channels": 3, "image_size": [16, 16384], "rope_theta": 10000.0,
                "rope_scaling": None, "attention_bias": False, "tie_word_embeddings": False,
                "torch_dtype": "float32", "transformers_version": "4.36.2"}
    checkpoints = [
        # name, layout, stored dtype, config overrides
        ("gqa_causal", "causal", "F32", dict(architectures=["ErniePixelForCausalLM"], hidden_size=32, intermediate_size=56,
                                             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, vocab_size=96,
                                             rms_norm_eps=1e-5, max_position_embeddings=64)),
        # MHA with 3 heads of 16, no num_key_value_heads key, rms_norm_eps absent (code default 1e-6).
        ("mha48_cls3", "classifier", "F32", dict(architectures=["ErniePixelForSequenceClassification"], hidden_size=48,
                                                 intermediate_size=80, num_hidden_layers=3, num_attention_heads=3, vocab_size=100,
                                                 max_position_embeddings=64, num_labels=3, pad_token_id=2,
                                                 problem_type="single_label_classification")),
        # MQA, attention biases, regression head, F16 storage, dynamic NTK RoPE past max_position_embeddings.
        ("mqa_bias_reg_f16", "classifier", "F16", dict(architectures=["ErniePixelForSequenceClassification"], hidden_size=40,
                                                       intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                                                       num_key_value_heads=1, vocab_size=80, rms_norm_eps=1e-5,
                                                       max_position_embeddings=12, attention_bias=True, num_labels=1,
                                                       pad_token_id=2, problem_type="regression", torch_dtype="float16",
                                                       rope_scaling={"type": "dynamic", "factor": 2.0})),
        # Vanilla Llama (TextGPT): lm_head naming, no patch embedding, BF16, linear RoPE scaling.
        ("llama_bf16", "llama", "BF16", dict(model_type="llama", architectures=["LlamaForCausalLM"], hidden_size=32,
                                             intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                             num_key_value_heads=2, vocab_size=90, rms_norm_eps=1e-5, max_position_embeddings=8,
                                             torch_dtype="bfloat16", rope_scaling={"type": "linear", "factor": 2.0})),
        # The bare ErniePixelModel (no "model." prefix, no heads).
        ("bare_pixel", "bare", "F32", dict(architectures=["ErniePixelModel"], hidden_size=16, intermediate_size=32,
                                           num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, vocab_size=50,
                                           rms_norm_eps=1e-5, max_position_embeddings=32)),
    ]
    for name, layout, dtype, overrides in checkpoints:
        cfg = dict(base_cfg)
        cfg.update(overrides)
        if layout == "llama":
            for key in ("patch_size", "num_channels", "image_size"):
                cfg.pop(key)
        if name == "mha48_cls3":
            cfg.pop("rms_norm_eps", None)
        if cfg.get("num_labels"):
            cfg["id2label"] = {str(i): f"LABEL_{i}" for i in range(cfg["num_labels"])}
            cfg["label2id"] = {f"LABEL_{i}": i for i in range(cfg["num_labels"])}
        directory = os.path.join(root, name)
        shutil.rmtree(directory, ignore_errors=True)  # only what this script writes; README.md stays
        w = save_checkpoint(directory, cfg, make_weights(rng, cfg, layout), layout, dtype)
        V = cfg["vocab_size"]
        cases = []
        if layout != "bare":
            cases += [
                ("text_right_b3", "text, right padding, batch 3", dict(zip(("input_ids", "attention_mask"), text_batch(rng, V, [9, 6, 3], 9, "right")))),
                ("text_left_b2", "text, left padding, batch 2", dict(zip(("input_ids", "attention_mask"), text_batch(rng, V, [7, 4], 7, "left")))),
                ("text_b1", "text, batch 1, no padding", dict(zip(("input_ids", "attention_mask"), text_batch(rng, V, [5], 5, "right")))),
            ]
        if layout == "llama":
            cases.append(("text_long_b2", "text past max_position_embeddings with linear RoPE scaling",
                          dict(zip(("input_ids", "attention_mask"), text_batch(rng, V, [12, 10], 12, "right")))))
        if layout != "llama":
            px, pm = pixel_batch(rng, [5, 3, 2], 6)
            cases.append(("pixel_right_b3", "pixel, right-padded strips, batch 3", {"pixel_values": px, "attention_mask": pm}))
            px, pm = pixel_batch(rng, [3], 5, side="left")
            cases.append(("pixel_left_b1", "pixel, left-padded mask, batch 1", {"pixel_values": px, "attention_mask": pm}))
        if layout in ("causal", "classifier"):
            px, pm = pixel_batch(rng, [3, 2, 1], 4)
            ids, im = text_batch(rng, V, [6, 4, 2], 6, "right")
            cases.append(("pair_right_b3", "pair, right padding; row 0 has no text pad (pools P-1)",
                          {"pixel_values": px, "patch_attention_mask": pm, "input_ids": ids, "attention_mask": im}))
            px, pm = pixel_batch(rng, [2, 3], 4)
            ids, im = text_batch(rng, V, [5, 3], 5, "left")
            cases.append(("pair_left_b2", "pair, left-padded text",
                          {"pixel_values": px, "patch_attention_mask": pm, "input_ids": ids, "attention_mask": im}))
        if name == "mqa_bias_reg_f16":
            px, pm = pixel_batch(rng, [5, 4], 6)
            ids, im = text_batch(rng, V, [10, 8], 10, "right")
            cases.append(("pair_long_b2", "pair of length 16 > max_position_embeddings 12: dynamic NTK RoPE",
                          {"pixel_values": px, "patch_attention_mask": pm, "input_ids": ids, "attention_mask": im}))
        for case, description, inputs in cases:
            expected = forward(cfg, w, **inputs)
            stored = {}
            for key, value in inputs.items():
                if key == "input_ids":
                    stored[key] = ("I64", value.astype(np.int64))
                else:
                    stored[key] = ("F32", value.astype(F32)) if value.dtype == F32 else ("I64", value.astype(np.int64))
            write_safetensors(os.path.join(directory, case + ".inputs.safetensors"), stored)
            write_safetensors(os.path.join(directory, case + ".expected.safetensors"),
                              {k: ("I64" if v.dtype == np.int64 else "F32", v) for k, v in expected.items()})
            manifest.append({"checkpoint": name, "case": case, "description": description,
                             "outputs": sorted(expected)})
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(root) for fn in fns if fn != "README.md")
    print(f"{len(manifest)} cases, {total / 1e6:.2f} MB in {root}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/ModelTests/Fixtures")
