#!/usr/bin/env python3
"""Reads a safetensors file with the reference implementation and prints what it found, as JSON on stdout.

Used by the Swift tests to prove that files written by this project load in the `safetensors` package:
   python3 scripts/read_safetensors_reference.py FILE
Prints {"metadata": {...} | null, "tensors": {name: {"dtype", "shape", "data_hex"}}}; exits non-zero
with the reference's own error when the file does not load. Tensors numpy can represent are also loaded
through safetensors.numpy.load_file, so the high-level API is exercised too.
"""
import json
import sys

from safetensors import deserialize, safe_open

NUMPY_LOADABLE = {"BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "F32", "F64"}


def main(path):
    with open(path, "rb") as f:
        content = f.read()
    tensors = {}
    for name, info in deserialize(content):
        tensors[name] = {"dtype": info["dtype"], "shape": list(info["shape"]), "data_hex": bytes(info["data"]).hex()}
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata()
        for name in f.keys():
            if tensors[name]["dtype"] in NUMPY_LOADABLE:
                array = f.get_tensor(name)
                assert list(array.shape) == tensors[name]["shape"], name
                assert array.tobytes().hex() == tensors[name]["data_hex"], name
    json.dump({"metadata": metadata, "tensors": tensors}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
