#!/usr/bin/env python3
"""Writes Tests/EvalTests/Fixtures/probes.json: small feature sets and the bias-free heads scikit-learn
fits to them (LogisticRegression, fit_intercept=False, C = 1/l2; Ridge, fit_intercept=False, alpha = l2).

Run by hand (output committed):   pip install scikit-learn numpy
                                   python3 scripts/make_probe_fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "EvalTests", "Fixtures", "probes.json")
rng = np.random.default_rng(5)
cases = []
for n, d, k, l2 in [(60, 5, 2, 1.0), (90, 8, 3, 0.1)]:
    x = rng.standard_normal((n, d)).astype(np.float32)
    true = rng.standard_normal((k, d))
    y = np.argmax(x @ true.T + rng.gumbel(size=(n, k)), axis=1)
    model = LogisticRegression(fit_intercept=False, C=1.0 / l2, tol=1e-12, max_iter=10000).fit(x.astype(np.float64), y)
    w = model.coef_
    if k == 2:  # scikit-learn's binary model has one row; the softmax head with the same logits difference is (-w/2, w/2)
        w = np.vstack([-w / 2, w / 2])
    cases.append({"kind": "logistic", "features": x.ravel().tolist(), "labels": y.tolist(), "d": d, "k": k, "l2": l2,
                  "weight": w.ravel().tolist()})
for n, d, l2 in [(50, 6, 0.5)]:
    x = rng.standard_normal((n, d)).astype(np.float32)
    t = x.astype(np.float64) @ rng.standard_normal(d) + rng.normal(0, 0.1, n)
    model = Ridge(fit_intercept=False, alpha=l2, solver="cholesky").fit(x.astype(np.float64), t)
    cases.append({"kind": "ridge", "features": x.ravel().tolist(), "targets": t.tolist(), "d": d, "l2": l2,
                  "weight": model.coef_.ravel().tolist()})
with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)
    f.write("\n")
print("wrote", os.path.normpath(OUT))
