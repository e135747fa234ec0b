#!/usr/bin/python3
"""Rendering speed: the original PangoCairo renderer's algorithm in Python against `pixelgpt render` (issue 7 item 5).

The upstream code (ernie-research/pixelgpt `src/ernie_pixel/rendering/pangocairo_renderer.py`) is not available
here, so `UpstreamRenderer` below re-implements it call for call from SPEC 5.3-5.4 and the golden README
(../shared/golden/render/README.md): the primary font registered with fontconfig (what manimpango.register_font
does), the font description "Noto Sans 13.333333333333334px", and per call a fresh cairo surface and context, a
Pango context from PangoCairo.create_context, a new layout per text, get_pixel_size, move_to(x, 8 - h/2 - 2),
show_layout, and the numpy extraction of SPEC 5.4. Before timing it checks that this Python renderer reproduces the
golden pixel_sha256 (all public XNLI singles, rgb, both lengths, and the XNLI pairs), so that the comparison is
against the original's real cost.

Both renderers then render the same N strips (default: 500 XNLI dev premises, the first 34 distinct ones of each of
the 15 languages, cut to 500, at max_seq_length 256, rgb) after the same warm-up, without writing any file:
Python single-threaded, and ours through `pixelgpt render --input CASES --bench --threads T` for T = 1 and 2.

Run by hand (not part of CI; the Debian packages are not in scripts/setup.sh):
    apt-get install -y python3-gi python3-gi-cairo gir1.2-pango-1.0 python3-numpy
    swift build -c release --scratch-path .build-render --product pixelgpt
    /usr/bin/python3 scripts/bench_render.py [--pixelgpt .build-render/release/pixelgpt] [--n 500] [--repeat 3]
Use /usr/bin/python3: the Debian PyGObject/pycairo packages are built for the system Python.
"""
import argparse
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.environ.get("PIXELGPT_GOLDEN", os.path.join(ROOT, "..", "shared", "golden"))
DATA = os.environ.get("PIXELGPT_DATA", os.path.join(ROOT, "..", "shared", "data"))
FONT_FILE = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
LANGUAGES = ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]

# fontconfig reads FONTCONFIG_FILE when it first initialises: set it (and the locale, golden README "fontconfig
# and locale") before Pango is imported.
os.environ["FONTCONFIG_FILE"] = os.path.join(ROOT, "renderers", "noto", "fonts.conf")
os.environ["LC_ALL"] = "C.UTF-8"
for variable in ("LANG", "LANGUAGE", "PANGO_LANGUAGE", "FC_LANG"):
    os.environ.pop(variable, None)

import cairo  # noqa: E402
import gi  # noqa: E402
import numpy as np  # noqa: E402

gi.require_version("Pango", "1.0")
gi.require_version("PangoCairo", "1.0")
from gi.repository import Pango, PangoCairo  # noqa: E402


class UpstreamRenderer:
    """PangoCairoTextRenderer with the noto_renderer config (font_size 8, dpi 120, 16 px patches), rgb or grey."""

    def __init__(self, max_seq_length=256, rgb=True, font_file=FONT_FILE, family="Noto Sans"):
        # manimpango.register_font(font_file): FcConfigAppFontAddFile on the current configuration (NULL).
        fontconfig = ctypes.CDLL("libfontconfig.so.1")
        fontconfig.FcConfigAppFontAddFile.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        if not fontconfig.FcConfigAppFontAddFile(None, font_file.encode()):
            raise RuntimeError(f"{font_file}: fontconfig cannot register it")
        # Upstream reads the family with fontTools getDebugName(1); for NotoSans-Regular.ttf that is "Noto Sans".
        self.pixels_per_patch = 16
        self.max_seq_length = max_seq_length
        self.rgb = rgb
        pixel_size = 8 * 120 / 72
        self.font = Pango.font_description_from_string(f"{family} {pixel_size}px")

    def px2patch_ceil(self, px):
        return -(-px // self.pixels_per_patch)

    def px2patch_floor(self, px):
        return px // self.pixels_per_patch

    def _get_offset_to_next_patch(self, x):
        return min(self.px2patch_ceil(x) * self.pixels_per_patch,
                   self.max_seq_length * self.pixels_per_patch - self.pixels_per_patch)

    def get_empty_surface(self):
        width = self.pixels_per_patch * self.max_seq_length
        surface = cairo.ImageSurface(cairo.FORMAT_RGB24 if self.rgb else cairo.FORMAT_A8, width, self.pixels_per_patch)
        context = cairo.Context(surface)
        if self.rgb:
            context.set_source_rgb(1.0, 1.0, 1.0)
            context.rectangle(0, 0, width, self.pixels_per_patch)
            context.fill()
            context.set_source_rgb(0.0, 0.0, 0.0)
        return surface, context, []

    def get_image_from_surface(self, surface, sep_patches):
        data = surface.get_data()
        width = self.pixels_per_patch * self.max_seq_length
        if self.rgb:
            image = np.frombuffer(data, dtype=np.uint8).reshape((self.pixels_per_patch, width, 4))
            image = image[:, :, :3]
            image = image[:, :, ::-1]
            for idx in sep_patches:
                image[:, idx: idx + self.pixels_per_patch, :] = 0
        else:
            image = np.invert(np.frombuffer(data, dtype=np.uint8).reshape((self.pixels_per_patch, width)))
            for idx in sep_patches:
                image[:, idx: idx + self.pixels_per_patch] = 0
        return image

    def _render_single_sentence(self, sentence, offset, context, max_length=None, rtl=False):
        pango_context = PangoCairo.create_context(context)
        pango_context.set_font_description(self.font)
        layout = Pango.Layout(pango_context)
        if rtl:
            layout.set_auto_dir(False)
            pango_context.set_base_dir(Pango.Direction.RTL)
            layout.set_alignment(Pango.Alignment.RIGHT)
        layout.set_text(sentence, -1)
        unknown = layout.get_unknown_glyphs_count()
        width, height = layout.get_pixel_size()
        full_width = width
        shown = layout
        if max_length is not None and self.px2patch_ceil(offset + width) > max_length:
            shown = Pango.Layout(pango_context)
            lo, hi = 0, len(sentence)
            while lo <= hi:
                mid = (lo + hi) // 2
                shown.set_text(sentence[:mid], -1)
                width, height = shown.get_pixel_size()
                patches = self.px2patch_ceil(offset + width)
                if patches < max_length:
                    lo = mid + 1
                elif patches > max_length:
                    hi = mid - 1
                else:
                    break
        context.move_to(offset, (self.pixels_per_patch / 2) - (height / 2) - 2)
        PangoCairo.show_layout(context, shown)
        return full_width, unknown

    @staticmethod
    def is_rtl(text):
        import string
        ignored = set(string.whitespace + string.punctuation + string.digits)
        kept = [c for c in text if c not in ignored]
        if not kept:
            return False
        votes = sum(Pango.unichar_direction(c) == Pango.Direction.RTL for c in (kept[0], kept[-1], kept[len(kept) // 2]))
        return votes >= 2

    def render(self, text):
        text = text.replace("\n", " ")
        surface, context, sep_patches = self.get_empty_surface()
        width, _ = self._render_single_sentence(text, 2, context)
        eos = self._get_offset_to_next_patch(2 + width + 2)
        sep_patches.append(eos)
        return self.get_image_from_surface(surface, sep_patches), self.px2patch_floor(eos), sep_patches

    def render_pair(self, text_a, text_b):
        text_a, text_b = text_a.replace("\n", " "), text_b.replace("\n", " ")
        rtl = self.is_rtl(text_a) and self.is_rtl(text_b)
        surface, context, sep_patches = self.get_empty_surface()
        width_a, _ = self._render_single_sentence(text_a, 2, context, rtl=rtl)
        sep = self._get_offset_to_next_patch(2 + width_a + 2)
        sep_patches.append(sep)
        offset_b = sep + self.pixels_per_patch + 2
        max_length = self.px2patch_floor(self.max_seq_length * self.pixels_per_patch - self.pixels_per_patch) if rtl else None
        width_b, _ = self._render_single_sentence(text_b, offset_b, context, max_length=max_length, rtl=rtl)
        eos = self._get_offset_to_next_patch(offset_b + width_b + 2)
        sep_patches.append(eos)
        return self.get_image_from_surface(surface, sep_patches), self.px2patch_floor(eos), sep_patches


def check_against_goldens():
    """The Python renderer must reproduce the goldens, or its timing says nothing about the original's."""
    path = os.path.join(GOLDEN, "render", "cases.jsonl")
    cases = [json.loads(line) for line in open(path, encoding="utf-8")]
    renderers = {}
    checked = failed = 0
    for case in cases:
        if not case["source"].startswith("xnli-dev-"):
            continue
        key = (case["max_seq_length"], case["mode"])
        if key not in renderers:
            renderers[key] = UpstreamRenderer(case["max_seq_length"], rgb=case["mode"] == "rgb")
        renderer = renderers[key]
        if case["kind"] == "single":
            image, n, seps = renderer.render(case["text"])
        else:
            image, n, seps = renderer.render_pair(*case["text_pair"])
        ok = (hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest() == case["pixel_sha256"]
              and n == case["num_text_patches"] and seps == case["sep_patches"])
        checked += 1
        if not ok:
            failed += 1
            print(f"golden mismatch: {case['id']}", file=sys.stderr)
    return checked, failed


def xnli_premises(n):
    per_language = -(-n // len(LANGUAGES))
    texts = []
    for lang in LANGUAGES:
        seen = []
        with open(os.path.join(DATA, "xnli", f"dev-{lang}.tsv"), encoding="utf-8") as f:
            for line in f:
                premise = line.rstrip("\n").split("\t")[0]
                if premise not in seen:
                    seen.append(premise)
                if len(seen) == per_language:
                    break
        texts.extend(seen)
    return texts[:n]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pixelgpt", default=os.path.join(ROOT, ".build-render", "release", "pixelgpt"))
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the N strips; the best one counts")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of all three measurements")
    parser.add_argument("--skip-golden-check", action="store_true")
    args = parser.parse_args()

    if not args.skip_golden_check:
        checked, failed = check_against_goldens()
        print(f"python renderer vs goldens: {checked - failed}/{checked} XNLI cases identical (pixels, num_text_patches, sep_patches)")
        if failed:
            sys.exit("the Python renderer does not reproduce the goldens; its timing would not be the original's")

    texts = xnli_premises(args.n)
    renderer = UpstreamRenderer(args.max_seq_length, rgb=True)
    for text in texts[: args.warmup]:
        renderer.render(text)

    def python_rate():
        best = best_cpu = float("inf")
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            for text in texts:
                renderer.render(text)
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        return len(texts) / best, len(texts) / best_cpu

    rounds = {"python": [], "swift_1_thread": [], "swift_2_threads": []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        cases = os.path.join(tmp, "cases.jsonl")
        with open(cases, "w", encoding="utf-8") as f:
            for text in texts:
                f.write(json.dumps({"text": text, "max_seq_length": args.max_seq_length, "mode": "rgb"}, ensure_ascii=False) + "\n")

        def swift_rate(threads):
            out = subprocess.run(
                [args.pixelgpt, "render", "--input", cases, "--bench", "--threads", str(threads),
                 "--warmup", str(args.warmup), "--repeat", str(args.repeat)],
                check=True, capture_output=True, text=True).stdout
            timing = json.loads(out)
            return timing["strips_per_s"], timing["strips_per_cpu_s"]

        # Interleaved rounds, so that load from other processes hits every renderer alike; medians are reported.
        for _ in range(args.rounds):
            rounds["python"].append(python_rate())
            rounds["swift_1_thread"].append(swift_rate(1))
            rounds["swift_2_threads"].append(swift_rate(2))
    # Wall-clock strips/s, and strips per CPU-second (process user + system time: the steadier figure when other
    # processes share the cores; for 2 threads it sums both threads, so it shows overhead, not scaling).
    median = {name: sorted(v[0] for v in values)[len(values) // 2] for name, values in rounds.items()}
    median_cpu = {name: sorted(v[1] for v in values)[len(values) // 2] for name, values in rounds.items()}
    best = {name: max(v[0] for v in values) for name, values in rounds.items()}
    results = {
        "n": len(texts), "max_seq_length": args.max_seq_length, "repeat": args.repeat, "rounds": args.rounds,
        "cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "strips_per_s_median": median, "strips_per_cpu_s_median": median_cpu, "strips_per_s_best": best,
        "per_round_wall_and_cpu": rounds,
        "speedup_1_thread_wall": median["swift_1_thread"] / median["python"],
        "speedup_1_thread_cpu": median_cpu["swift_1_thread"] / median_cpu["python"],
        "speedup_1_thread_best": best["swift_1_thread"] / best["python"],
        "scaling_2_threads_wall": median["swift_2_threads"] / median["swift_1_thread"],
    }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
