#!/usr/bin/env python3
"""Writes the safetensors fixtures under Tests/SafeTensorsTests/Fixtures with the reference implementation.

Run by hand (outputs are committed):  pip install safetensors numpy ml_dtypes
                                      python3 scripts/make_safetensors_fixtures.py

Everything the Swift tests compare against comes from here: bytes written by the `safetensors` package,
and the Float32 values of every 8-bit float, float16 and bfloat16 pattern as numpy and ml_dtypes decode
them, plus their round-to-nearest-even encodings of Float32 values. Deterministic (fixed seed).
"""
import json
import os
import sys

import ml_dtypes
import numpy as np
import safetensors
from safetensors import TensorSpec, serialize
from safetensors.numpy import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SafeTensorsTests", "Fixtures")
rng = np.random.default_rng(20240416)


# The Python binding names dtypes by their framework names; the file says the format's names.
SPEC_NAMES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16", "I32": "int32",
              "U32": "uint32", "I64": "int64", "U64": "uint64", "F16": "float16", "BF16": "bfloat16",
              "F32": "float32", "F64": "float64", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
              "F8_E8M0": "float8_e8m0fnu", "F8_E4M3FNUZ": "float8_e4m3fnuz", "F8_E5M2FNUZ": "float8_e5m2fnuz",
              "C64": "complex64", "F4": "float4_e2m1fn_x2"}


def raw(dtype, shape, array):
    return {"dtype": dtype, "shape": list(shape), "data": np.ascontiguousarray(array).tobytes()}


def write(name, tensors, metadata=None):
    """Serialises raw tensors ({dtype, shape, data}) through the reference writer."""
    keep_alive = {k: np.frombuffer(v["data"], dtype=np.uint8).copy() for k, v in tensors.items()}
    specs = {k: TensorSpec(dtype=SPEC_NAMES[v["dtype"]], shape=v["shape"], data_ptr=keep_alive[k].ctypes.data,
                           data_len=keep_alive[k].nbytes) for k, v in tensors.items()}
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(serialize(specs, metadata))


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(os.path.join(OUT, "sharded"), exist_ok=True)
    expected = {"safetensors_version": safetensors.__version__, "numpy_version": np.__version__,
                "ml_dtypes_version": ml_dtypes.__version__, "integers": {}}

    # 1. Every dtype of the format, written through the reference serializer from raw bytes.
    all_bytes = np.arange(256, dtype=np.uint8)
    tensors = {
        "bool": raw("BOOL", [2, 3], np.array([[1, 0, 1], [0, 0, 1]], dtype=np.bool_)),
        "u8": raw("U8", [4], np.array([0, 1, 127, 255], dtype=np.uint8)),
        "i8": raw("I8", [4], np.array([-128, -1, 0, 127], dtype=np.int8)),
        "i16": raw("I16", [4], np.array([-32768, -1, 0, 32767], dtype=np.int16)),
        "u16": raw("U16", [3], np.array([0, 1, 65535], dtype=np.uint16)),
        "i32": raw("I32", [2, 2], np.array([[-2**31, -1], [0, 2**31 - 1]], dtype=np.int32)),
        "u32": raw("U32", [3], np.array([0, 1, 2**32 - 1], dtype=np.uint32)),
        "i64": raw("I64", [4], np.array([-2**63, -1, 0, 2**63 - 1], dtype=np.int64)),
        "u64": raw("U64", [3], np.array([0, 1, 2**64 - 1], dtype=np.uint64)),
        "f16_all": raw("F16", [65536], np.arange(65536, dtype=np.uint16)),
        "bf16_sample": raw("BF16", [4096], np.concatenate([
            np.array([0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x0001, 0x807F, 0x7F7F, 0x3F80], dtype=np.uint16),
            rng.integers(0, 65536, 4086, dtype=np.uint16)])),
        "f32": raw("F32", [2, 3], np.array([[0.0, -0.0, 1.5], [np.inf, -np.inf, 3.4028235e38]], dtype=np.float32)),
        "f64": raw("F64", [4], np.array([1e-300, -2.5, 1e300, np.pi], dtype=np.float64)),
        "f8_e4m3": raw("F8_E4M3", [256], all_bytes),
        "f8_e5m2": raw("F8_E5M2", [256], all_bytes),
        "f8_e8m0": raw("F8_E8M0", [256], all_bytes),
        "f8_e4m3fnuz": raw("F8_E4M3FNUZ", [256], all_bytes),
        "f8_e5m2fnuz": raw("F8_E5M2FNUZ", [256], all_bytes),
        "c64": raw("C64", [2], np.array([1 + 2j, -3.5j], dtype=np.complex64)),
        # F4 packs two values a byte; the binding takes the storage shape [2] and records [4].
        "f4": raw("F4", [2], np.array([0x21, 0xF7], dtype=np.uint8)),
        "scalar": raw("F32", [], np.array(7.25, dtype=np.float32)),
        "empty": raw("F32", [2, 0], np.zeros((2, 0), dtype=np.float32)),
    }
    write("all_dtypes.safetensors", tensors, {"format": "pt", "source": "make_safetensors_fixtures.py", "note": "ünïcødé \"quoted\""})
    for name in ["bool", "u8", "i8", "i16", "u16", "i32", "u32", "i64", "u64"]:
        t = tensors[name]
        np_type = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16,
                   "I32": np.int32, "U32": np.uint32, "I64": np.int64, "U64": np.uint64}[t["dtype"]]
        expected["integers"][name] = [str(int(v)) for v in np.frombuffer(t["data"], dtype=np_type)]

    # 2. Reference decodings as F32 (NaN kept as the decoder's NaN bits; tests compare NaN-ness).
    decoded = {
        "f16_all": np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32),
        "bf16_sample": np.frombuffer(tensors["bf16_sample"]["data"], dtype=np.uint16).view(ml_dtypes.bfloat16).astype(np.float32),
        "f8_e4m3": all_bytes.view(ml_dtypes.float8_e4m3fn).astype(np.float32),
        "f8_e5m2": all_bytes.view(ml_dtypes.float8_e5m2).astype(np.float32),
        "f8_e8m0": all_bytes.view(ml_dtypes.float8_e8m0fnu).astype(np.float32),
        "f8_e4m3fnuz": all_bytes.view(ml_dtypes.float8_e4m3fnuz).astype(np.float32),
        "f8_e5m2fnuz": all_bytes.view(ml_dtypes.float8_e5m2fnuz).astype(np.float32),
        "f64": np.frombuffer(tensors["f64"]["data"], dtype=np.float64).astype(np.float32),
    }
    save_bytes = save(decoded)
    with open(os.path.join(OUT, "decoded_f32.safetensors"), "wb") as f:
        f.write(save_bytes)

    # 3. Encoding Float32 -> F16 / BF16 (round to nearest even), including ties, overflow and specials.
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 65504.0, 65520.0, 65519.99, 1e-8, 6e-8,
                         3.4028235e38, 1.0 + 2**-8, 1.0 + 3 * 2**-8, 1.0 + 2**-11, 1.0 + 3 * 2**-11, 5.96e-8, 2.98e-8],
                        dtype=np.float32)
    bits = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    scaled = (rng.standard_normal(20000) * np.exp(rng.uniform(-20, 20, 20000))).astype(np.float32)
    # Exact ties, where only round-half-to-even decides: BF16 halfway patterns (low 16 bits 0x8000) and
    # Float32 values halfway between two neighbouring F16 values.
    bf16_ties = ((rng.integers(0, 2**16, 2000, dtype=np.uint32) << 16) | 0x8000).astype(np.uint32).view(np.float32)
    f16_lo = rng.integers(0, 0x7BFF, 2000, dtype=np.uint16).view(np.float16).astype(np.float64)
    f16_hi = (np.frombuffer(f16_lo.astype(np.float16).tobytes(), dtype=np.uint16) + 1).view(np.float16).astype(np.float64)
    f16_ties = ((f16_lo + f16_hi) / 2).astype(np.float32)
    source = np.concatenate([specials, bits, scaled, bf16_ties, f16_ties, -f16_ties]).astype(np.float32)
    write("encode_f32.safetensors", {
        "source": raw("F32", source.shape, source),
        "as_f16": raw("F16", source.shape, source.astype(np.float16)),
        "as_bf16": raw("BF16", source.shape, source.astype(ml_dtypes.bfloat16)),
    })

    # 4. The reference writer's layout for a mixed set (its own dtype-then-name order, 8-byte padding).
    layout = {
        "b.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
        "a.bias": np.array([1, 2, 3], dtype=np.int64),
        "c.half": np.array([0.5, -2.0, 3.0], dtype=np.float16),
        "d.mask": np.array([True, False, True, True, False], dtype=np.bool_),
        "e.small": np.array([1, 2, 3], dtype=np.int16),
    }
    with open(os.path.join(OUT, "reference_layout.safetensors"), "wb") as f:
        f.write(save(layout, metadata={"format": "pt"}))

    # 5. A sharded set as transformers writes it: shards in its file pattern and a sorted, indented index.
    shard_tensors = [
        {"model.embed.weight": rng.standard_normal((4, 3)).astype(np.float32),
         "model.layers.0.weight": rng.standard_normal((3, 3)).astype(np.float32)},
        {"model.layers.1.weight": rng.standard_normal((3, 3)).astype(np.float32),
         "model.norm.weight": np.ones(3, dtype=np.float32)},
    ]
    weight_map, total = {}, 0
    for i, group in enumerate(shard_tensors):
        file = f"model-{i + 1:05d}-of-{len(shard_tensors):05d}.safetensors"
        with open(os.path.join(OUT, "sharded", file), "wb") as f:
            f.write(save(group, metadata={"format": "pt"}))
        for name, array in group.items():
            weight_map[name] = file
            total += array.nbytes
    with open(os.path.join(OUT, "sharded", "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2, sort_keys=True) + "\n")
    expected["sharded_values"] = {name: [float(v) for v in array.ravel()] for group in shard_tensors for name, array in group.items()}

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote fixtures to", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
