#!/usr/bin/python3
"""What a user would otherwise run: pandas DataFrame.corr(method="kendall") and a scipy.stats.kendalltau loop,
timed on the exact matrix tft-native gets (raw float64, row-major m x n; rows are rankings).

    rankcorr_reference.py <matrix.f64> <m> <n> [--pairs-sample P]

Prints one JSON line: seconds for each, and the matrices' max difference to the tft-native result file
<matrix.f64>.tft when present. With --pairs-sample, the scipy loop runs on P random pairs and its full time is
extrapolated (reported as such).
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats


def main():
    path, m, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sample = None
    if "--pairs-sample" in sys.argv:
        sample = int(sys.argv[sys.argv.index("--pairs-sample") + 1])
    skip_pandas = "--skip-pandas" in sys.argv
    x = np.fromfile(path, dtype=np.float64).reshape(m, n)
    out = {"m": m, "n": n}

    if not skip_pandas:
        df = pd.DataFrame(x.T)  # pandas correlates columns: one column per ranking
        t0 = time.perf_counter()
        pc = df.corr(method="kendall").to_numpy()
        out["pandas_s"] = time.perf_counter() - t0

    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    extrapolated = False
    if sample is not None and sample < len(pairs):
        rng = np.random.default_rng(0)
        pairs = [pairs[k] for k in rng.choice(len(pairs), size=sample, replace=False)]
        extrapolated = True
    sc = {}
    t0 = time.perf_counter()
    for i, j in pairs:
        sc[(i, j)] = stats.kendalltau(x[i], x[j])[0]
    el = time.perf_counter() - t0
    total_pairs = m * (m - 1) // 2
    out["scipy_loop_s"] = el * total_pairs / len(pairs)
    out["scipy_loop_extrapolated_from_pairs"] = len(pairs) if extrapolated else None

    try:
        tft = np.fromfile(path + ".tft", dtype=np.float64).reshape(m, m)
        if not skip_pandas:
            out["max_abs_diff_vs_pandas"] = float(np.nanmax(np.abs(tft - pc)))
        out["max_abs_diff_vs_scipy"] = float(max(abs(tft[i, j] - v) for (i, j), v in sc.items()))
    except FileNotFoundError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
