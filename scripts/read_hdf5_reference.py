#!/usr/bin/env python3
"""Reads an HDF5 weights file with h5py and prints every dataset as numpy sees it, as JSON on stdout.

Used by the Swift tests to prove that HDF5 files this project writes open in h5py with the same arrays:
   python3 scripts/read_hdf5_reference.py FILE
Prints {"attrs": {root attributes as strings}, "datasets": {dotted name: {"dtype", "shape", "data_hex",
"dtype_attr"}}}; data_hex is numpy's little-endian C-order bytes.
"""
import json
import sys

import h5py
import numpy as np


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def main(path):
    out = {"attrs": {}, "datasets": {}}
    with h5py.File(path, "r") as f:
        out["attrs"] = {k: text(v) for k, v in f.attrs.items()}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                array = np.asarray(obj)
                array = array.astype(array.dtype.newbyteorder("<")) if array.dtype.byteorder == ">" else array
                out["datasets"][name.replace("/", ".")] = {
                    "dtype": str(array.dtype), "shape": list(array.shape), "data_hex": array.tobytes().hex(),
                    "dtype_attr": text(obj.attrs["dtype"]) if "dtype" in obj.attrs else None}
        f.visititems(visit)
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
