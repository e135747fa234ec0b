#!/usr/bin/env python3
"""Mutation fuzzing of every parser of the tool, through the built executable (issue "Hostile inputs").

    scripts/fuzz.py --pixelgpt .build/debug/pixelgpt [--seed 1] [--count 200] [--seconds S]
                    [--target NAME ...] [--jobs 2] [--timeout 60] [--keep DIR] [--json]

Each target starts from a valid seed input (made here, from the repository's samples, tasks and fixtures, or
by the tool itself), applies 1-4 random mutations (bit flips, interesting bytes, truncation, insertion,
deletion, duplication; in text formats also extreme numbers, control characters and invalid UTF-8), and runs
the command that parses it in a child process under a 4 GiB address-space cap and a time limit. Outcomes:

    ok            exit 0
    clean error   non-zero exit, exactly one stderr line starting with "error:", and it is the last line
    other error   non-zero exit otherwise (several error lines, or a per-line report such as render
                  --from-dataset's "line N: ...")
    crash         killed by a signal: a Swift trap (SIGILL/SIGTRAP), SIGSEGV, SIGABRT, or the memory cap
    hang          still running at --timeout

All mutations are drawn up front from --seed, so the inputs do not depend on --jobs or on timing; with
--seconds a target stops drawing new inputs after that many seconds (counts then depend on the machine).
Exit status 1 when any input crashed or hung (their inputs are kept under --keep).
"""
import argparse, base64, collections, concurrent.futures, gzip, json, os, random, re, resource, shutil
import struct, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_FIXTURE = REPO + "/Tests/TextTests/Fixtures/tiny_llama_like.model"
RENDERED_FIXTURE = REPO + "/Tests/RenderTests/Fixtures/rendered_dataset/part-00000.gz"
ADDRESS_SPACE = 4 << 30

INTERESTING_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x09]
INTERESTING_TOKENS = [b"-1", b"0", b"-0", b"1e308", b"-1e308", b"NaN", b"Infinity", b"4294967296", b"2147483648",
                      b"9223372036854775807", b"18446744073709551615", b"18446744073709551616", b"1.5", b"\x00",
                      b"\r", b"\xff\xfe", b"\xed\xa0\x80", b"\\ud800", b"\\u0000", b'"', b"'", b"{", b"[", b"\t", b"/../"]


def mutate(rng, data, text):
    """1-4 mutations of `data`; returns the bytes and a description."""
    data = bytearray(data)
    steps = []
    for _ in range(1 + (rng.randrange(4) if rng.random() < 0.4 else 0)):
        kinds = ["flip", "byte", "truncate", "insert", "delete", "duplicate"] + (["token", "token", "number"] if text else [])
        kind = rng.choice(kinds)
        n = len(data)
        at = rng.randrange(n + 1) if n else 0
        if kind == "flip" and n:
            at = rng.randrange(n)
            data[at] ^= 1 << rng.randrange(8)
        elif kind == "byte" and n:
            at = rng.randrange(n)
            data[at] = rng.choice(INTERESTING_BYTES) if rng.random() < 0.6 else rng.randrange(256)
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        elif kind == "delete" and n:
            del data[at:at + rng.randrange(1, 17)]
        elif kind == "duplicate" and n:
            start = rng.randrange(n)
            chunk = data[start:start + rng.randrange(1, 65)]
            data[at:at] = chunk * rng.randrange(1, 4)
        elif kind == "token":
            data[at:at] = rng.choice(INTERESTING_TOKENS)
        elif kind == "number":
            numbers = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?", bytes(data))]
            if numbers:
                start, end = rng.choice(numbers)
                data[start:end] = rng.choice(INTERESTING_TOKENS[:13])
        steps.append(f"{kind}@{at}")
    return bytes(data), ",".join(steps)


def safetensors_bytes(tensors, metadata=None):
    """A safetensors file as the format defines it: u64 header length, JSON header, data."""
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def floats(n, start=0.0):
    return struct.pack(f"<{n}f", *[start + i / 8 for i in range(n)])


class Targets:
    """Seeds and commands. Each target: (seed bytes, file name, text?, prepare(dir, path) -> command)."""

    def __init__(self, tool, work):
        self.tool, self.work = tool, work
        quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # A tiny checkpoint (the config target), and for the eval targets the same with a 2-label score and its
        # vocabulary cut to the tokenizer fixture's 1,200 pieces (a 2 MB checkpoint: cheap to load and hash).
        self.model = work + "/tiny"
        subprocess.run([tool, "init", "--preset", "tiny", "--seed", "1", self.model], **quiet)
        self.classifier = work + "/classifier"
        subprocess.run([tool, "init", "--preset", "tiny", "--seed", "1", "--num-labels", "2", self.classifier], **quiet)
        self.shrink_vocabulary(self.classifier, 1200)
        small = work + "/small.safetensors"
        with open(small, "wb") as f:
            f.write(safetensors_bytes({"a.weight": ("F32", [2, 3], floats(6)), "b.bias": ("F32", [4], floats(4, 1))}, {"format": "pt"}))
        subprocess.run([tool, "convert", small, work + "/small.h5"], **quiet)
        # Two shards and their index.
        self.shards = work + "/shards"
        os.makedirs(self.shards)
        for i, name in enumerate(["a.weight", "b.bias"], 1):
            with open(f"{self.shards}/model-0000{i}-of-00002.safetensors", "wb") as f:
                f.write(safetensors_bytes({name: ("F32", [2, 2], floats(4, i))}))
        index = {"metadata": {"total_size": 32}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                                                "b.bias": "model-00002-of-00002.safetensors"}}
        # Rows for the data targets: the first 12 RTE dev rows, as TSV and as JSON lines; a task for the latter.
        tsv = open(REPO + "/samples/glue/RTE/dev.tsv", "rb").read().split(b"\n")[:13]
        header = tsv[0].decode().split("\t")
        jsonl = b"".join(json.dumps(dict(zip(header, line.decode().split("\t")))).encode() + b"\n" for line in tsv[1:])
        rte = open(REPO + "/tasks/glue/rte.yaml", "rb").read()
        self.jsonl_tasks = work + "/tasks-jsonl"
        os.makedirs(self.jsonl_tasks)
        with open(self.jsonl_tasks + "/rte.yaml", "wb") as f:
            f.write(rte.replace(b"validation: glue/RTE/dev.tsv", b"validation: glue/RTE/dev.jsonl"))
        # Pre-rendered rows: the fixture's first three lines; a PNG: the first row's image.
        rendered = gzip.open(RENDERED_FIXTURE).read().split(b"\n")[:3]
        self.png_row = json.loads(rendered[0])
        png = base64.b64decode(self.png_row["image"])
        # A finished evaluation (the checkpoint's own head, 4 RTE rows): its results.json for `report`, its samples
        # file for `eval --resume` (which re-reads every line before continuing).
        self.data = work + "/data"
        os.makedirs(self.data + "/glue/RTE")
        shutil.copy(REPO + "/samples/glue/RTE/dev.tsv", self.data + "/glue/RTE/dev.tsv")
        self.run = work + "/run"
        subprocess.run([tool] + self.eval_command(self.run), **quiet)
        # The same run as one shard (`--shard 0/1`): its shard.json for `merge`.
        self.one_shard = work + "/one-shard"
        subprocess.run([tool] + self.eval_command(self.one_shard) + ["--shard", "0/1"], **quiet)
        self.all = {
            "safetensors": (safetensors_bytes({"a": ("F32", [2, 3], floats(6)), "b": ("I64", [2], struct.pack("<2q", 1, -1))},
                                              {"format": "pt", "note": "x"}), "m.safetensors", False, self.inspect),
            "sharded-index": (json.dumps(index, indent=2).encode(), "model.safetensors.index.json", True, self.sharded),
            "hdf5": (open(work + "/small.h5", "rb").read(), "m.h5", False, self.inspect),
            "config-json": (open(self.model + "/config.json", "rb").read(), "config.json", True, self.config),
            "task-yaml": (rte, "rte.yaml", True, self.tasks),
            "tsv-rows": (b"\n".join(tsv) + b"\n", "dev.tsv", True, self.eval_tsv),
            "jsonl-rows": (jsonl, "dev.jsonl", True, self.eval_jsonl),
            "tokenizer-model": (open(TOKENIZER_FIXTURE, "rb").read(), "tokenizer.model", False, self.tokenize),
            "rendered-rows": (b"\n".join(rendered) + b"\n", "part-00000", True, self.rendered),
            "png": (png, "image.png", False, self.png),
            "results-json": (self.results_seed(), "results.json", True, self.report),
            "samples-jsonl": (open(self.run + "/samples_rte.jsonl", "rb").read(), "samples_rte.jsonl", True, self.resume),
            "samples-html": (open(self.run + "/samples_rte.jsonl", "rb").read(), "samples_rte.jsonl", True, self.html_report),
            "shard-json": (self.placeholder(open(self.one_shard + "/shards/0-of-1/shard.json", "rb").read()), "shard.json", True, self.merge),
        }

    @staticmethod
    def shrink_vocabulary(directory, size):
        """Keeps the first `size` rows of the token embedding (and token head) and says so in config.json."""
        header_length = struct.unpack("<Q", open(directory + "/model.safetensors", "rb").read(8))[0]
        raw = open(directory + "/model.safetensors", "rb").read()
        header = json.loads(raw[8:8 + header_length])
        metadata = header.pop("__metadata__", None)
        tensors = {}
        for name, info in header.items():
            begin, end = info["data_offsets"]
            payload, shape = raw[8 + header_length + begin:8 + header_length + end], info["shape"]
            if name in ("model.embed_tokens.weight", "lm_token_head.weight"):
                payload, shape = payload[:size * shape[1] * 4], [size, shape[1]]
            tensors[name] = (info["dtype"], shape, payload)
        with open(directory + "/model.safetensors", "wb") as f:
            f.write(safetensors_bytes(tensors, metadata))
        config = json.load(open(directory + "/config.json"))
        config["vocab_size"] = size
        json.dump(config, open(directory + "/config.json", "w"), indent=2)

    def inspect(self, d, path):
        return ["inspect", path]

    def sharded(self, d, path):
        for name in os.listdir(self.shards):
            os.symlink(f"{self.shards}/{name}", f"{d}/{name}")
        return ["inspect", path]

    def config(self, d, path):
        os.symlink(self.model + "/model.safetensors", d + "/model.safetensors")
        return ["inspect", d]

    def tasks(self, d, path):
        return ["tasks", "--tasks-dir", d]

    def eval_rows(self, d, path, name, tasks):
        data = d + "/data/glue/RTE"
        os.makedirs(data)
        os.rename(path, f"{data}/{name}")
        # The checkpoint's own score head: no head training, so each input costs one forward pass of one row (every row is still read).
        return ["eval", "--model", self.classifier, "--tasks", "rte", "--modality", "text", "--tokenizer", TOKENIZER_FIXTURE,
                "--data-dir", d + "/data", "--output-dir", d + "/out", "--limit", "1", "--head", "checkpoint"] + tasks

    def eval_tsv(self, d, path):
        return self.eval_rows(d, path, "dev.tsv", [])

    def eval_jsonl(self, d, path):
        return self.eval_rows(d, path, "dev.jsonl", ["--tasks-dir", self.jsonl_tasks])

    def results_seed(self):
        """The finished run's results.json without what differs from one fuzz run to the next (when and how long
        it ran, the checkout's state, this run's temporary folder: `report` opens none of its paths), so that the
        mutations, some of which pick their spot among the digits, hit the same bytes every time."""
        results = json.load(open(self.run + "/results.json"))
        results.update(created="2026-01-01T00:00:00Z", runtime_seconds=1.0, git_revision=None)
        for task in results["tasks"]:
            task.update(runtime_seconds=1.0, rows_per_second=4.0)
        return self.placeholder(json.dumps(results, indent=2, sort_keys=True).encode() + b"\n")

    WORK_PLACEHOLDER = b"/fuzz-work"

    def placeholder(self, seed):
        """`seed` with this run's temporary folder (random letters and digits) replaced by a fixed name."""
        return seed.replace(self.work.encode(), self.WORK_PLACEHOLDER)

    def eval_command(self, output):
        """The finished evaluation the results, samples and shard targets start from."""
        return ["eval", "--model", self.classifier, "--tasks", "rte", "--modality", "text", "--tokenizer", TOKENIZER_FIXTURE,
                "--data-dir", self.data, "--output-dir", output, "--limit", "4", "--head", "checkpoint"]

    def report(self, d, path):
        return ["report", path, "--output-dir", d + "/out"]

    def with_samples(self, d, path):
        """A copy of the finished run's directory holding the mutated samples file."""
        output = d + "/run"
        shutil.copytree(self.run, output)
        shutil.copyfile(path, output + "/samples_rte.jsonl")
        return output

    def resume(self, d, path):
        return self.eval_command(self.with_samples(d, path)) + ["--resume"]

    def merge(self, d, path):
        output = d + "/one-shard"
        shutil.copytree(self.one_shard, output)
        # The paths the shard records lead back to this run's folder wherever the mutations left them intact.
        with open(output + "/shards/0-of-1/shard.json", "wb") as f:
            f.write(open(path, "rb").read().replace(self.WORK_PLACEHOLDER, self.work.encode()))
        return ["merge", output]

    def html_report(self, d, path):
        return ["report", self.with_samples(d, path), "--output-dir", d + "/out", "--html", d + "/html"]

    def tokenize(self, d, path):
        return ["tokenize", "--tokenizer", path, "--text", "Hello world, this is a test."]

    def rendered(self, d, path):
        # Mostly the JSON lines mutated and then compressed; sometimes the gzip stream itself.
        data = open(path, "rb").read()
        gz = path + ".gz"
        with open(gz, "wb") as f:
            f.write(gzip.compress(data, mtime=0) if not data.startswith(b"\x1f\x8b") else data)
        return ["render", "--from-dataset", gz, "--out-dir", d + "/out"]

    def png(self, d, path):
        row = dict(self.png_row, image=base64.b64encode(open(path, "rb").read()).decode())
        gz = d + "/part-00000.gz"
        with open(gz, "wb") as f:
            f.write(gzip.compress(json.dumps(row).encode() + b"\n", mtime=0))
        return ["render", "--from-dataset", gz, "--out-dir", d + "/out"]


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_child(command, timeout, **options):
    """Runs `command` without stdout; returns ("hang", "") past `timeout`, ("signal", stderr) when a signal
    ended it (a negative status, or a shell's 128 + N), else (exit status, stderr). Shared with fuzz_hdf5.py."""
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, **options)
    except subprocess.TimeoutExpired:
        return "hang", ""
    stderr = done.stderr.decode("utf-8", "replace")
    return ("signal" if done.returncode < 0 or done.returncode > 128 else done.returncode), stderr


def classify(command, timeout):
    status, stderr = run_child(command, timeout, preexec_fn=limit_address_space, cwd=REPO)
    if status == "hang":
        return "hang", ""
    if status == "signal":
        return "crash", stderr
    if status == 0:
        return "ok", stderr
    lines = stderr.strip().splitlines()
    errors = [l for l in lines if l.startswith("error:")]
    return ("clean error" if len(errors) == 1 and lines[-1].startswith("error:") else "other error"), stderr


OUTCOMES = ["ok", "clean error", "other error", "crash", "hang"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pixelgpt", default=REPO + "/.build/debug/pixelgpt")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=200, help="inputs per target")
    parser.add_argument("--seconds", type=float, help="stop drawing inputs for a target after this long")
    parser.add_argument("--target", action="append", help="only these targets (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60, help="seconds before an input counts as a hang")
    parser.add_argument("--keep", default="fuzz-failures", help="where inputs that crashed or hung are copied")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON (schema pixelgpt.fuzz, version 1)")
    args = parser.parse_args()
    tool = os.path.abspath(args.pixelgpt)
    results = {}
    failures = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="pixelgpt-fuzz-") as work:
        targets = Targets(tool, work)
        names = args.target or list(targets.all)
        unknown = [n for n in names if n not in targets.all]
        if unknown:
            parser.error(f"unknown target {unknown[0]}; targets: {', '.join(targets.all)}")
        for name in names:
            seed, file_name, text, prepare = targets.all[name]
            rng = random.Random(f"{args.seed}/{name}")
            inputs = [mutate(rng, seed, text) for _ in range(args.count)]
            begun = time.time()

            def attempt(item):
                i, (data, description) = item
                if args.seconds is not None and time.time() - begun > args.seconds:
                    return None
                d = f"{work}/{name}-{i}"
                os.makedirs(d)
                path = f"{d}/{file_name}"
                with open(path, "wb") as f:
                    f.write(data)
                outcome, stderr = classify([tool] + prepare(d, path), args.timeout)
                if outcome in ("crash", "hang"):
                    os.makedirs(args.keep, exist_ok=True)
                    shutil.copyfile(path, f"{args.keep}/{name}-seed{args.seed}-{i}-{file_name}")
                shutil.rmtree(d, ignore_errors=True)
                return i, description, outcome, stderr

            counts = collections.Counter()
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                for result in pool.map(attempt, enumerate(inputs)):
                    if result is None:
                        continue
                    i, description, outcome, stderr = result
                    counts[outcome] += 1
                    if outcome in ("crash", "hang"):
                        failures.append({"target": name, "input": i, "mutation": description, "outcome": outcome,
                                         "stderr": stderr.strip()[-300:]})
            results[name] = {"inputs": sum(counts.values()), **{o.replace(" ", "_"): counts[o] for o in OUTCOMES},
                             "seconds": round(time.time() - begun, 1)}
            if not args.json:
                print(f"{name}: " + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"schema": "pixelgpt.fuzz", "version": 1, "seed": args.seed, "count": args.count,
                          "targets": results, "failures": failures}, indent=2, sort_keys=True))
    else:
        print(f"| target | inputs | ok | clean error | other error | crash | hang |")
        print(f"|---|---:|---:|---:|---:|---:|---:|")
        for name, r in results.items():
            print(f"| {name} | {r['inputs']} | {r['ok']} | {r['clean_error']} | {r['other_error']} | {r['crash']} | {r['hang']} |")
        print(f"seed {args.seed}, {time.time() - started:.0f} s")
        for f in failures:
            print(f"{f['target']} #{f['input']} ({f['mutation']}): {f['outcome']}: {f['stderr']!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
