#!/usr/bin/env python3
"""Fixtures for reading the original's pre-rendered datasets (SPEC 5.1, 5.6, 7.1, 7.2; issue 7 item 4).

Writes Tests/RenderTests/Fixtures/rendered_dataset/:
  part-00000.gz        a small gzip JSON-lines file in the original's row format (text fields, label, base64 PNG
                       `image`, `num_patches`), written as two concatenated gzip members, with deliberately
                       malformed lines among the rows;
  expected.safetensors for every good line N, the model inputs Pillow + numpy give:
                         line<N>.crop     F32 [3, 16, 16L]  np.asarray(img.convert('RGB').crop((0, 0, 16L, 16))) / 255
                         line<N>.bicubic  F32 [3, 16, 16L]  np.asarray(img.convert('RGB').resize((16L, 16), BICUBIC)) / 255
                         line<N>.mask     F32 [L]           min(num_patches + 1, L) ones
                       (for an RGB image, crop without convert is the same array as line<N>.crop);
  manifest.json        per line: what it is, the PNG mode and size Pillow reports, the texts and label; for a
                       malformed line, a word its error message must contain.

Strips come from our own `pixelgpt render` (built with `swift build --scratch-path .build-render --product
pixelgpt`); the other images are made with numpy and Pillow to cover the PNG kinds: grey, bilevel, grey+alpha,
RGBA, palette (4-bit and 8-bit), noise wider, narrower, taller and shorter than the 16 x 16L target.

Usage: python3 scripts/make_rendered_dataset_fixtures.py [--pixelgpt .build-render/debug/pixelgpt]
Needs numpy, Pillow (pip install pillow) and safetensors.
"""
import argparse
import base64
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import PIL
from PIL import Image
from safetensors.numpy import save_file

L = 8  # max_seq_length of the fixtures: target 16 x 128
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "RenderTests", "Fixtures", "rendered_dataset")


def png_bytes(img, **save):
    buf = io.BytesIO()
    img.save(buf, format="PNG", **save)
    return buf.getvalue()


def render(pixelgpt, text, pair, max_seq_length):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "strip.png")
        cmd = [pixelgpt, "render", "--text", text, "--out", out, "--max-seq-length", str(max_seq_length)]
        if pair is not None:
            cmd += ["--pair", pair]
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        with open(out, "rb") as f:
            return f.read(), result["num_text_patches"]


def smooth_noise(rng, height, width, channels, levels):
    """Blocky noise: values from a few levels (compresses well) with sharp edges (makes bicubic overshoot)."""
    shape = (height, width) if channels == 1 else (height, width, channels)
    return (rng.integers(0, levels, size=shape) * (255 // (levels - 1))).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixelgpt", default=os.path.join(ROOT, ".build-render", "debug", "pixelgpt"))
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    rows = []  # (row dict or raw line string, description)

    def add(image_png, num_patches, description, **fields):
        row = dict(fields)
        row["image"] = base64.b64encode(image_png).decode("ascii")
        row["num_patches"] = num_patches
        rows.append((row, description))

    # Strips rendered by our renderer: the exact width, wider (1024 patches, as the released files may store them),
    # wider by a little, and narrower.
    premise = "The cat sat on the mat, and then it slept."
    hypothesis = "A cat slept."
    for text, pair, msl, what in [
        (premise, hypothesis, L, "pair strip at exactly 16L"),
        (premise, None, 1024, "single strip 1024 patches wide (16384 px): squashed by the resize"),
        ("Le chat dort.", "Il dort.", 12, "pair strip 12 patches wide"),
        ("short", None, 4, "single strip 4 patches wide (narrower than 16L)"),
    ]:
        png, n = render(args.pixelgpt, text, pair, msl)
        fields = {"premise": text, "hypothesis": pair, "label": 1} if pair is not None else {"sentence": text, "label": 0}
        add(png, n, what, **fields)

    # Pillow-made images of every PNG kind.
    add(png_bytes(Image.fromarray(smooth_noise(rng, 16, 200, 1, 5), "L")), 11, "grey (L) 200 wide",
        sentence1="grey", sentence2="image", label=0)
    add(png_bytes(Image.fromarray(smooth_noise(rng, 16, 90, 1, 2) > 0)), 5, "bilevel (1) 90 wide",
        sentence="bilevel", label=1)
    la = np.stack([smooth_noise(rng, 16, 70, 1, 4), smooth_noise(rng, 16, 70, 1, 3)], axis=-1)
    add(png_bytes(Image.fromarray(la, "LA")), 4, "grey + alpha (LA) 70 wide", question="la", sentence="x", label=1)
    rgba = smooth_noise(rng, 16, 100, 4, 4)
    add(png_bytes(Image.fromarray(rgba, "RGBA")), 6, "RGBA 100 wide, alpha varying", premise="rgba", hypothesis="x", label=2)
    palette_image = Image.fromarray(smooth_noise(rng, 16, 150, 3, 2), "RGB").convert("P", palette=Image.ADAPTIVE, colors=8)
    add(png_bytes(palette_image, bits=4), 9, "palette (P) 4-bit 150 wide", sentence="p4", label=None)
    palette8 = Image.fromarray(smooth_noise(rng, 16, 140, 3, 3), "RGB").convert("P", palette=Image.ADAPTIVE, colors=27)
    add(png_bytes(palette8), 8, "palette (P) 8-bit 140 wide", sentence="p8", label=3.25)
    add(png_bytes(Image.fromarray(smooth_noise(rng, 20, 333, 3, 4), "RGB")), 20, "RGB noise 333 x 20 (taller)",
        premise="noise", hypothesis="tall", label=0)
    add(png_bytes(Image.fromarray(smooth_noise(rng, 12, 50, 3, 3), "RGB")), 2, "RGB noise 50 x 12 (shorter, narrower)",
        premise="noise", hypothesis="short", label=1)
    add(png_bytes(Image.fromarray(smooth_noise(rng, 16, 2000, 3, 2), "RGB")), 7, "RGB noise 2000 wide (strong squash)",
        premise="noise", hypothesis="wide", label=2)

    # Malformed lines, each with a word its error must contain.
    good = rows[0][0]
    malformed = [
        ('{"premise": "broken", "image": ', "JSON"),
        (json.dumps({**good, "image": "!!!!"}), "base64"),
        (json.dumps({**good, "image": base64.b64encode(b"GIF89a not a png").decode()}), "PNG"),
        (json.dumps({k: v for k, v in good.items() if k != "num_patches"}), "num_patches"),
        (json.dumps({k: v for k, v in good.items() if k != "image"}), "image"),
        (json.dumps({**good, "num_patches": 2.5}), "num_patches"),
    ]
    # A blank line in the middle is skipped: neither a row nor malformed.
    order = rows[:5] + [(m, None) for m in malformed[:3]] + [None] + rows[5:] + [(m, None) for m in malformed[3:]]
    lines, manifest, tensors = [], [], {}
    for number, entry in enumerate(order, start=1):
        if entry is None:
            lines.append("")
            continue
        item, description = entry
        if description is None:
            text, word = item
            lines.append(text)
            manifest.append({"line": number, "malformed": True, "error_contains": word})
            continue
        row = item
        lines.append(json.dumps(row, ensure_ascii=False))
        img = Image.open(io.BytesIO(base64.b64decode(row["image"])))
        img.load()
        rgb = img.convert("RGB")
        crop = np.asarray(rgb.crop((0, 0, 16 * L, 16)), dtype=np.float32) / np.float32(255)
        bicubic = np.asarray(rgb.resize((16 * L, 16), Image.BICUBIC), dtype=np.float32) / np.float32(255)
        mask = np.zeros(L, dtype=np.float32)
        mask[: min(row["num_patches"] + 1, L)] = 1
        tensors[f"line{number}.crop"] = np.ascontiguousarray(crop.transpose(2, 0, 1))
        tensors[f"line{number}.bicubic"] = np.ascontiguousarray(bicubic.transpose(2, 0, 1))
        tensors[f"line{number}.mask"] = mask
        manifest.append({
            "line": number, "malformed": False, "description": description, "mode": img.mode,
            "width": img.width, "height": img.height, "num_patches": row["num_patches"],
            "label": row.get("label"),
            "texts": {k: v for k, v in row.items() if isinstance(v, str) and k != "image"},
        })
    text = "\n".join(lines) + "\n"
    half = text.index("\n", len(text) // 2) + 1
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "part-00000.gz"), "wb") as f:
        # Two gzip members, as `cat a.gz b.gz` makes: a reader must go on after the first ends.
        f.write(gzip.compress(text[:half].encode("utf-8"), mtime=0) + gzip.compress(text[half:].encode("utf-8"), mtime=0))
    save_file(tensors, os.path.join(OUT, "expected.safetensors"))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"max_seq_length": L, "pixels_per_patch": 16, "pillow": PIL.__version__, "numpy": np.__version__,
                   "lines": len(lines), "rows": len(rows), "malformed": len(malformed), "entries": manifest},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    sizes = {name: os.path.getsize(os.path.join(OUT, name)) for name in os.listdir(OUT)}
    print(json.dumps(sizes), file=sys.stderr)


if __name__ == "__main__":
    main()
