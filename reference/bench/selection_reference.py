#!/usr/bin/python3
"""What a user would otherwise run for Tier 1 and the MI check, timed on the exact inputs tft-native gets:
pandas DataFrame.corr() (pairwise complete) plus the same keep rule (descending variance, drop on |r| above
the threshold with a kept feature), and scikit-learn's mutual_info_regression (n_neighbors=3).

    selection_reference.py <features.f32> <rows> <cols> <threshold> <min_periods> <mi.f64> <mi_rows> <mi_y.f64> [--skip-mi]

features.f32: row-major float32 (NaN = missing); mi.f64: the complete rows' matrix, mi_y.f64 their labels.
Prints one JSON line with the seconds of each step, the kept columns and the MI values.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_regression


def keep_rule(r, nobs, variance, threshold, min_periods):
    order = sorted(range(len(variance)), key=lambda i: (-(variance[i] if np.isfinite(variance[i]) else -np.inf), i))
    kept = []
    for i in order:
        if any(nobs[i, j] >= min_periods and abs(r[i, j]) > threshold for j in kept):
            continue
        kept.append(i)
    return sorted(kept)


def main():
    path, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threshold, min_periods = float(sys.argv[4]), int(sys.argv[5])
    x = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
    df = pd.DataFrame(x.astype(np.float64))
    out = {}
    t0 = time.perf_counter()
    r = df.corr().to_numpy()
    out["pandas_corr_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    finite = np.isfinite(x).astype(np.float64)
    nobs = finite.T @ finite
    kept = keep_rule(r, nobs, df.var().to_numpy(), threshold, min_periods)
    out["keep_rule_s"] = time.perf_counter() - t1
    out["kept"] = kept
    out["r_sample"] = [None if not np.isfinite(v) else float(v) for v in r.ravel()[:: max(1, cols * cols // 5000)]]
    if "--skip-mi" not in sys.argv:
        mi_rows = int(sys.argv[7])
        xm = np.fromfile(sys.argv[6], dtype=np.float64).reshape(mi_rows, cols)
        ym = np.fromfile(sys.argv[8], dtype=np.float64)
        t2 = time.perf_counter()
        mi = mutual_info_regression(xm, ym, n_neighbors=3, random_state=0)
        out["sklearn_mi_s"] = time.perf_counter() - t2
        out["mi"] = [float(v) for v in mi]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
