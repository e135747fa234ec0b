#!/usr/bin/env python3
"""Checks an evaluation's results.json against docs/results.schema.json and against its own files:

- the file validates (JSON Schema draft 2020-12), and leaving out any field the provenance and metrics
  of a version 3 file promise makes it fail (so the schema requires them);
- each `metrics_stderr` value: accuracy's equals lm-evaluation-harness's mean_stderr of the samples
  (std ddof=1 / sqrt(n)) to 1e-12; the bootstrapped ones agree within 20% with a bootstrap by
  scikit-learn/scipy over the samples (2000 resamples of numpy's own);
- each `data_sha256` entry is the SHA-256 of the file (hashlib), and the run-wide table holds every task's;
- `results` and `versions` (lm-evaluation-harness's layout) say what `tasks` says, task by task;
- each samples line names its labels through the task's `label_names` and its text occurs in the data file;
- with --this-machine: `cpu` is this machine's (/proc/cpuinfo) and `git_revision` is HEAD of the checkout
  holding this script (as the executable that wrote the file was built there).

    python3 scripts/check_results_schema.py OUTPUT_DIR [--this-machine]
        (pip install jsonschema numpy scipy scikit-learn)
Prints one line per problem and exits non-zero when there is any.
"""
import copy
import hashlib
import json
import os
import subprocess
import sys

import jsonschema
import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "docs", "results.schema.json")

# The fields issue 18 lists, as paths: a version 3 file without any of them must not validate.
REQUIRED_TOP = ["tool_version", "git_revision", "cpu", "blas_core", "threads", "blas_threads", "runtime_seconds",
                "command_line", "data_sha256", "batch_size", "requested_batch_size", "gemm_instruction_set", "results", "versions"]
REQUIRED_TASK = ["metrics", "metrics_stderr", "stderr_method", "runtime_seconds", "rows_per_second", "label_names",
                 "data_sha256"]

METRICS = {
    "mcc": lambda y, p: matthews_corrcoef(y.astype(int), p.astype(int)),
    "f1": lambda y, p: f1_score(y.astype(int), p.astype(int), zero_division=0),
    "pearson": lambda y, p: pearsonr(p, y)[0],
    "spearmanr": lambda y, p: spearmanr(p, y)[0],
}


def check_schema(results, validator, problems):
    for error in validator.iter_errors(results):
        problems.append(f"schema: {'/'.join(map(str, error.absolute_path))}: {error.message}")
    for field in REQUIRED_TOP:
        broken = copy.deepcopy(results)
        broken.pop(field, None)
        if validator.is_valid(broken):
            problems.append(f"schema: a file without {field} still validates")
    for field in REQUIRED_TASK:
        broken = copy.deepcopy(results)
        for task in broken["tasks"]:
            task.pop(field, None)
        if broken["tasks"] and validator.is_valid(broken):
            problems.append(f"schema: a file without tasks[].{field} still validates")


def check_standard_errors(task, rows, problems):
    name = task["task"]
    if len(task.get("seeds", [])) > 1:
        return  # the samples hold the first seed only; the standard error covers every seed
    scored = [r for r in rows if r.get("label") is not None]
    y = np.array([r["label"] for r in scored], dtype=float)
    p = np.array([r["prediction"] for r in scored], dtype=float)
    stderr, methods = task["metrics_stderr"], task["stderr_method"]
    if set(methods) != set(task["metrics"]):
        problems.append(f"{name}: stderr_method names {sorted(methods)}, metrics are {sorted(task['metrics'])}")
    rng = np.random.default_rng(5)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(2000)]
    for metric in task["metrics"]:
        if metric == "acc":
            correct = (y.astype(int) == p.astype(int)).astype(float)
            expected = float(np.std(correct, ddof=1) / np.sqrt(len(correct)))
            if methods.get(metric) != "analytic" or abs(stderr.get(metric, np.nan) - expected) > 1e-12:
                problems.append(f"{name}: acc stderr {stderr.get(metric)} ({methods.get(metric)}), mean_stderr gives {expected}")
        else:
            values = np.array([METRICS[metric](y[d], p[d]) for d in draws], dtype=float)
            values = values[np.isfinite(values)]
            expected = float(np.std(values, ddof=1))
            ours = stderr.get(metric)
            if methods.get(metric) != "bootstrap-1000" or ours is None or abs(ours - expected) > 0.2 * expected:
                problems.append(f"{name}: {metric} stderr {ours} ({methods.get(metric)}), a scikit-learn/scipy bootstrap gives {expected}")


def check_samples(task, rows, data_text, problems):
    name, names = task["task"], task["label_names"]
    for r in rows:
        where = f"{task['samples_file']} index {r['index']}"
        if not isinstance(r.get("text"), str) or r["text"] not in data_text:
            problems.append(f"{where}: text {r.get('text')!r} is not in {task['file']}")
            break
        if r.get("text_pair") is not None and r["text_pair"] not in data_text:
            problems.append(f"{where}: text_pair is not in {task['file']}")
            break
        expected_label = names[int(r["label"])] if names and r.get("label") is not None else None
        expected_prediction = names[int(r["prediction"])] if names else None
        if r.get("label_name") != expected_label or r.get("prediction_name") != expected_prediction:
            problems.append(f"{where}: names {r.get('label_name')!r}/{r.get('prediction_name')!r}, "
                            f"label_names give {expected_label!r}/{expected_prediction!r}")
            break


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_hashes(results, problems):
    base = results["data_directory"]
    for relative, value in results["data_sha256"].items():
        path = relative if os.path.isabs(relative) else os.path.join(base, relative)
        if sha256(path) != value:
            problems.append(f"data_sha256: {relative} is not {value}")
    for task in results["tasks"]:
        evaluated = os.path.relpath(task["file"], base)
        if evaluated not in task["data_sha256"]:
            problems.append(f"{task['task']}: data_sha256 lacks its evaluated file {evaluated}")
        for relative, value in task["data_sha256"].items():
            if results["data_sha256"].get(relative) != value:
                problems.append(f"{task['task']}: data_sha256 {relative} is not in the run-wide table")


def check_harness_view(results, problems):
    expected = {}
    for task in results["tasks"]:
        values = dict(task["metrics"])
        values.update({f"{name}_stderr": error for name, error in task["metrics_stderr"].items() if name in task["metrics"]})
        expected[task["task"]] = values
    if results["results"] != expected:
        problems.append(f"results {results['results']} is not tasks' metrics and standard errors {expected}")
    if results["versions"] != {task["task"]: task["task_version"] for task in results["tasks"]}:
        problems.append(f"versions {results['versions']} are not the tasks' task_version")


def check_machine(results, problems):
    fields = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, sep, value = line.partition(":")
            if sep and key.strip() not in fields:
                fields[key.strip()] = value.strip()
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    cpu = results["cpu"]
    model = fields.get("model name") or fields.get("Model") or fields.get("Hardware")
    if cpu is None or cpu.get("model") != model:
        problems.append(f"cpu: {cpu}, /proc/cpuinfo names {model!r}")
    else:
        for flag in ("avx2", "avx512f"):
            if (flag in cpu["flags"]) != (flag in flags):
                problems.append(f"cpu: flags {cpu['flags']} and /proc/cpuinfo disagree on {flag}")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, check=True).stdout.strip())
    if results["git_revision"] != head + ("-dirty" if dirty else ""):
        problems.append(f"git_revision {results['git_revision']}, the checkout is at {head}{' (dirty)' if dirty else ''}")


def main(directory, this_machine):
    results = json.load(open(os.path.join(directory, "results.json")))
    validator = jsonschema.Draft202012Validator(json.load(open(SCHEMA)), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = []
    check_schema(results, validator, problems)
    if results.get("version") == 3 and not problems:
        for task in results["tasks"]:
            rows = [json.loads(line) for line in open(os.path.join(directory, task["samples_file"]), encoding="utf-8")]
            check_standard_errors(task, rows, problems)
            if task["file"].endswith(".gz"):
                continue  # pre-rendered data (--rendered): its texts are not checked here
            with open(task["file"], encoding="utf-8", newline="") as f:
                check_samples(task, rows, f.read(), problems)
        check_hashes(results, problems)
        check_harness_view(results, problems)
        if this_machine:
            check_machine(results, problems)
    for problem in problems:
        print(problem)
    print(f"{directory}: {len(results['tasks'])} tasks, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--this-machine"]
    if len(arguments) != 1:
        sys.exit(__doc__)
    main(arguments[0], "--this-machine" in sys.argv[1:])
