#!/usr/bin/env python3
"""Activation dump of a checkpoint on a probe file, computed by the numpy float32 reference forward pass of
scripts/make_model_fixtures.py (an independent implementation: numpy's BLAS and summation orders), with the
numerics-contract names and the probe's group prefixes, so that `pixelgpt numerics diff` compares it
layer by layer with a baseline recorded by `pixelgpt numerics record --storage full` on the same probe.

Usage: scripts/numerics_numpy_reference.py CHECKPOINT_DIR PROBE.safetensors OUT.safetensors
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as ref  # noqa: E402

INPUTS = ("input_ids", "attention_mask", "pixel_values", "patch_attention_mask")


def main(checkpoint, probe_path, out_path):
    cfg = json.load(open(os.path.join(checkpoint, "config.json")))
    w = {k: v.astype(np.float32) for k, v in load_file(os.path.join(checkpoint, "model.safetensors")).items()}
    probe = load_file(probe_path)
    groups = {}
    for name, value in probe.items():
        group, _, base = name.rpartition(".")
        if base in INPUTS:
            groups.setdefault(group, {})[base] = value
    out = {}
    for group, inputs in sorted(groups.items()):
        prefix = group + "." if group else ""
        for name, value in ref.forward(cfg, w, **inputs).items():
            out[prefix + name] = np.ascontiguousarray(value)
        for name, value in inputs.items():
            out[prefix + name] = value
    save_file(out, out_path, metadata={"format": "pt", "numerics.tool_version": "numpy reference"})


if __name__ == "__main__":
    main(*sys.argv[1:])
