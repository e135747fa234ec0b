#!/usr/bin/env python3
"""Recomputes every metric of an evaluation's results.json from its samples_TASK.jsonl files with
scikit-learn and scipy (the definitions HF `evaluate`'s glue metric uses) and compares.

    python3 scripts/check_eval_results.py OUTPUT_DIR        (pip install scikit-learn scipy)
Prints one line per task and exits non-zero when any metric differs by more than 1e-9.
"""
import json
import os
import sys

from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef


def main(directory):
    results = json.load(open(os.path.join(directory, "results.json")))
    failures = 0
    for task in results["tasks"]:
        rows = [json.loads(line) for line in open(os.path.join(directory, task["samples_file"]))]
        labels = [r["label"] for r in rows if r["label"] is not None]
        predictions = [r["prediction"] for r in rows if r["label"] is not None]
        ours = {}
        for name in task["metrics"]:
            if name == "acc":
                ours[name] = accuracy_score(labels, predictions)
            elif name == "f1":
                ours[name] = f1_score([int(x) for x in labels], [int(x) for x in predictions], zero_division=0)
            elif name == "mcc":
                ours[name] = matthews_corrcoef(labels, predictions)
            elif name == "pearson":
                ours[name] = float(pearsonr(predictions, labels)[0])
            elif name == "spearmanr":
                ours[name] = float(spearmanr(predictions, labels)[0])
        bad = {k: (task["metrics"][k], v) for k, v in ours.items() if abs(task["metrics"][k] - v) > 1e-9}
        failures += bool(bad)
        print(task["task"], "OK" if not bad else f"DIFFERS {bad}", {k: round(v, 6) for k, v in ours.items()})
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
