#!/usr/bin/env python3
"""Writes HDF5 fixtures the way users' tools write them, with what numpy reads back, for the Swift tests.

Run by hand (outputs are committed):   pip install h5py numpy safetensors transformers
                                        python3 scripts/make_hdf5_fixtures.py

Each style gets an .h5 file and an `<name>.expected.safetensors` with the arrays as numpy reads them
from that file via h5py, already in PyTorch naming and layout (Keras kernels transposed), written by the
reference safetensors writer. The Keras names and transpositions are transformers' own
(convert_tf_weight_name_to_pt_weight_name). The Swift reader must produce exactly these tensors.
"""
import os

import h5py
import numpy as np
from safetensors.numpy import save_file
from transformers.modeling_tf_pytorch_utils import TransposeType, convert_tf_weight_name_to_pt_weight_name

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "CheckpointsTests", "Fixtures")
rng = np.random.default_rng(7)

H, I, V = 8, 12, 16  # a miniature PixelGPT: hidden 8, intermediate 12, vocab 16, one layer


def tensors():
    """A miniature ErniePixelForCausalLM state dict (names and layouts of SPEC 2.1)."""
    t = {
        "model.embed_patches.patch_embeddings.projection.weight": rng.standard_normal((H, 3, 16, 16)).astype(np.float32),
        "model.embed_patches.patch_embeddings.projection.bias": rng.standard_normal(H).astype(np.float32),
        "model.embed_patches.patch_embeddings.norm.weight": np.ones(H, dtype=np.float32),
        "model.embed_patches.patch_embeddings.norm.bias": np.zeros(H, dtype=np.float32),
        "model.embed_tokens.weight": rng.standard_normal((V, H)).astype(np.float32),
        "model.layers.0.input_layernorm.weight": rng.standard_normal(H).astype(np.float32),
        "model.layers.0.self_attn.q_proj.weight": rng.standard_normal((H, H)).astype(np.float32),
        "model.layers.0.self_attn.k_proj.weight": rng.standard_normal((H // 2, H)).astype(np.float32),
        "model.layers.0.self_attn.v_proj.weight": rng.standard_normal((H // 2, H)).astype(np.float32),
        "model.layers.0.self_attn.o_proj.weight": rng.standard_normal((H, H)).astype(np.float32),
        "model.layers.0.post_attention_layernorm.weight": rng.standard_normal(H).astype(np.float32),
        "model.layers.0.mlp.gate_proj.weight": rng.standard_normal((I, H)).astype(np.float32),
        "model.layers.0.mlp.up_proj.weight": rng.standard_normal((I, H)).astype(np.float32),
        "model.layers.0.mlp.down_proj.weight": rng.standard_normal((H, I)).astype(np.float32),
        "model.norm.weight": rng.standard_normal(H).astype(np.float32),
        "lm_token_head.weight": rng.standard_normal((V, H)).astype(np.float32),
        "lm_pixel_head.weight": rng.standard_normal((768, H)).astype(np.float32),
    }
    return t


def main():
    os.makedirs(OUT, exist_ok=True)
    state = tensors()

    # 1. Dotted names at the root, contiguous float32 (the most common "save a state dict" script).
    path = os.path.join(OUT, "h5py_flat.h5")
    with h5py.File(path, "w") as f:
        for name, array in state.items():
            f.create_dataset(name, data=array)
    expected = {}
    with h5py.File(path, "r") as f:
        for name in f:
            expected[name] = np.asarray(f[name])
    save_file(expected, os.path.join(OUT, "h5py_flat.expected.safetensors"))

    # 2. Nested groups, chunked with gzip + shuffle, mixed dtypes (f16, f64, ints, bool, a scalar).
    path = os.path.join(OUT, "h5py_nested.h5")
    mixed = {
        "model/layers/0/self_attn/q_proj/weight": state["model.layers.0.self_attn.q_proj.weight"].astype(np.float16),
        "model/layers/0/mlp/down_proj/weight": state["model.layers.0.mlp.down_proj.weight"].astype(np.float64),
        "model/norm/weight": state["model.norm.weight"],
        "extra/step": np.array(1234, dtype=np.int64),
        "extra/ids": np.arange(-5, 5, dtype=np.int32),
        "extra/bytes": np.arange(250, 256, dtype=np.uint8),
        "extra/mask": np.array([True, False, True]),
    }
    with h5py.File(path, "w") as f:
        for name, array in mixed.items():
            if array.ndim >= 1 and array.size > 4:
                f.create_dataset(name, data=array, chunks=True, compression="gzip", compression_opts=4, shuffle=True)
            else:
                f.create_dataset(name, data=array)
    expected = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                expected[name.replace("/", ".")] = np.asarray(obj)
        f.visititems(visit)
    save_file(expected, os.path.join(OUT, "h5py_nested.expected.safetensors"))

    # 3. A Keras / Hugging Face tf_model.h5: layer_names split over two attributes (as Keras does past
    #    64 KiB), weight_names per layer, kernels stored [in, out] (dense) and [kh, kw, in, out] (conv).
    path = os.path.join(OUT, "keras_tf_model.h5")
    main_layer = "tf_ernie_pixel_for_causal_lm"
    keras = {}
    for name, array in state.items():
        levels = name.split(".")
        if name.startswith("model.layers."):
            levels = ["model", "layers_._" + levels[2]] + levels[3:]  # TF spells list items "layers_._0"
        last = levels[-1]
        if last == "weight" and array.ndim == 2 and "embed_tokens" not in name:
            levels[-1], array = "kernel", array.T  # Dense kernels are [in, out]
        elif last == "weight" and array.ndim == 4:
            levels[-1], array = "kernel", array.transpose(2, 3, 1, 0)  # Conv2D kernels are [kh, kw, in, out]
        elif last == "weight" and "embed_tokens" in name:
            levels[-1] = "embeddings"
        elif last == "weight" and "patch_embeddings.norm" in name:
            levels[-1] = "gamma"
        elif last == "bias" and "patch_embeddings.norm" in name:
            levels[-1] = "beta"
        keras[main_layer + "/" + "/".join(levels) + ":0"] = np.ascontiguousarray(array)
    layers = [main_layer, "lm_heads"]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names0"] = np.array([layers[0].encode()])
        f.attrs["layer_names1"] = np.array([layers[1].encode()])
        f.attrs["backend"] = "tensorflow".encode()
        f.attrs["keras_version"] = "2.15.0".encode()
        body = [k for k in keras if "lm_token_head" not in k and "lm_pixel_head" not in k]
        heads = [k for k in keras if k not in body]
        for layer, names in [(layers[0], body), (layers[1], heads)]:
            group = f.create_group(layer)
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for n in names:
                group.create_dataset(n, data=keras[n])
    # Names and layouts as transformers maps them when it loads a tf_model.h5 into PyTorch.
    expected = {}
    with h5py.File(path, "r") as f:
        for layer in layers:
            for n in f[layer].attrs["weight_names"]:
                n = n.decode()
                array = np.asarray(f[layer][n])
                pt, transpose = convert_tf_weight_name_to_pt_weight_name(n, tf_weight_shape=array.shape)
                if transpose is TransposeType.SIMPLE:
                    array = array.T
                elif transpose is TransposeType.CONV2D:
                    array = np.transpose(array, axes=(3, 2, 0, 1))
                assert transpose in (TransposeType.NO, TransposeType.SIMPLE, TransposeType.CONV2D), transpose
                assert np.array_equal(array, state[pt]), pt  # the generator above wrote what transformers expects
                expected[pt] = array
    save_file({k: np.ascontiguousarray(v) for k, v in expected.items()}, os.path.join(OUT, "keras_tf_model.expected.safetensors"))

    # 4. Not HDF5 at all, and an HDF5 file truncated mid-way.
    with open(os.path.join(OUT, "h5py_flat.h5"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.h5"), "wb") as f:
        f.write(data[: len(data) // 2])
    with h5py.File(os.path.join(OUT, "strings.h5"), "w") as f:
        f.create_dataset("names", data=np.array([b"a", b"b"]))
    print("wrote HDF5 fixtures to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
