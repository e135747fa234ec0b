#!/usr/bin/env python3
"""Writes Tests/EvalTests/Fixtures/metrics.json: fixed inputs and the metric values scikit-learn and scipy
compute for them, the definitions HF `evaluate`'s glue metric uses (SPEC 7.1).

Run by hand (output committed):   pip install scikit-learn scipy numpy
                                   python3 scripts/make_metric_fixtures.py
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "EvalTests", "Fixtures", "metrics.json")
rng = np.random.default_rng(11)

cases = []
for n, classes in [(50, 2), (200, 2), (97, 3), (10, 2), (300, 3)]:
    labels = rng.integers(0, classes, n)
    predictions = np.where(rng.random(n) < 0.7, labels, rng.integers(0, classes, n))
    case = {"kind": "classification", "labels": labels.tolist(), "predictions": predictions.tolist(),
            "acc": accuracy_score(labels, predictions), "mcc": matthews_corrcoef(labels, predictions)}
    if classes == 2:
        case["f1"] = f1_score(labels, predictions)
    cases.append(case)
# Degenerate: one class predicted everywhere (MCC 0 by convention, F1 0 without positives).
cases.append({"kind": "classification", "labels": [0, 1, 0, 1], "predictions": [0, 0, 0, 0],
              "acc": 0.5, "mcc": matthews_corrcoef([0, 1, 0, 1], [0, 0, 0, 0]), "f1": f1_score([0, 1, 0, 1], [0, 0, 0, 0], zero_division=0)})
for n in [30, 150]:
    labels = np.round(rng.uniform(0, 5, n) * 5) / 5  # STS-B style scores with many ties
    predictions = labels + rng.normal(0, 1, n)
    predictions[: n // 5] = np.round(predictions[: n // 5])  # ties in predictions too
    cases.append({"kind": "regression", "labels": labels.tolist(), "predictions": predictions.tolist(),
                  "pearson": float(pearsonr(predictions, labels)[0]), "spearmanr": float(spearmanr(predictions, labels)[0])})

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "scipy": scipy.__version__, "cases": cases}, f)
    f.write("\n")
print("wrote", os.path.normpath(OUT))
