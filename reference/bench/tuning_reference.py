"""Optuna's side of `npm run bench:tuning` (Debian: apt-get install python3-optuna).

    tuning_reference.py <out.json> <seeds> <overhead_trials>

For every problem of benchmarks/tuning-problems (the same definitions, written twice: here and in
TypeScript), and every seed: Optuna's TPESampler (multivariate, as tft-native's default; and univariate,
Optuna's default) and RandomSampler, each with its best value after every trial. Then the sampler's
overhead: the time of one trial's suggestions (the seed's 12-parameter TFT space) in a study that already
holds `overhead_trials` completed trials (in memory).
"""
import json
import math
import sys
import time
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

warnings.simplefilter("ignore")
optuna.logging.set_verbosity(optuna.logging.WARNING)

HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(t):
    x, y = t.suggest_float("x", -5, 10), t.suggest_float("y", 0, 15)
    return (y - 5.1 / (4 * math.pi**2) * x * x + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    return -sum(
        HARTMANN_ALPHA[i] * math.exp(-sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j]) ** 2 for j in range(6)))
        for i in range(4)
    )


def rosenbrock_switch(t):
    x = [t.suggest_float(f"x{i}", -2, 2) for i in range(10)]
    scale = {"a": 1.0, "b": 2.0, "c": 4.0}[t.suggest_categorical("scale", ["a", "b", "c"])]
    offset = t.suggest_categorical("offset", [0, 10, 20])
    n = t.suggest_int("n", 1, 8)
    rosen = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(9))
    return math.log1p(rosen * scale + offset + (n - 3) ** 2)


PROBLEMS = {"branin": (branin, 100), "hartmann6": (hartmann6, 100), "rosenbrock10_switch": (rosenbrock_switch, 150)}


def samplers(seed):
    return {
        "optuna_tpe_multivariate": optuna.samplers.TPESampler(seed=seed, multivariate=True),
        "optuna_tpe": optuna.samplers.TPESampler(seed=seed),
        "optuna_random": optuna.samplers.RandomSampler(seed=seed),
    }


def best_trace(objective, sampler, n):
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n)
    return list(np.minimum.accumulate([t.value for t in study.trials]))


TFT_SPACE = {
    "d_hidden": CategoricalDistribution([32, 48, 64, 96, 128]),
    "n_heads": CategoricalDistribution([2, 4, 8]),
    "lstm_layers": IntDistribution(1, 3),
    "dropout": FloatDistribution(0.05, 0.3),
    "seq_len": CategoricalDistribution([21, 42, 63]),
    "n_context": CategoricalDistribution([8, 16, 32]),
    "lr": FloatDistribution(3e-4, 3e-3, log=True),
    "batch_size": CategoricalDistribution([16, 32, 64]),
    "mle_weight": FloatDistribution(0.01, 0.2),
    "loss_mode": CategoricalDistribution(["sharpe", "joint_mle"]),
    "max_position": FloatDistribution(0.15, 0.3),
    "position_smooth": FloatDistribution(0.2, 0.5),
}


def suggest_all(trial):
    for k, d in TFT_SPACE.items():
        if isinstance(d, CategoricalDistribution):
            trial.suggest_categorical(k, d.choices)
        elif isinstance(d, IntDistribution):
            trial.suggest_int(k, d.low, d.high)
        else:
            trial.suggest_float(k, d.low, d.high, log=d.log)


def overhead(n_trials, multivariate, reps=30):
    rng = np.random.default_rng(0)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0, multivariate=multivariate))
    trials = []
    for _ in range(n_trials):
        params = {}
        for k, d in TFT_SPACE.items():
            if isinstance(d, CategoricalDistribution):
                params[k] = d.choices[int(rng.integers(len(d.choices)))]
            elif isinstance(d, IntDistribution):
                params[k] = int(rng.integers(d.low, d.high + 1))
            elif d.log:
                params[k] = float(math.exp(rng.uniform(math.log(d.low), math.log(d.high))))
            else:
                params[k] = float(rng.uniform(d.low, d.high))
        trials.append(create_trial(state=TrialState.COMPLETE, value=float(rng.normal()), params=params, distributions=TFT_SPACE))
    study.add_trials(trials)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        trial = study.ask()
        suggest_all(trial)
        times.append(time.perf_counter() - t0)
        study.tell(trial, state=TrialState.FAIL)
    return float(np.median(times))


def main():
    out, seeds, n_overhead = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result = {"optuna_version": optuna.__version__, "problems": {}, "overhead": {}}
    for name, (objective, budget) in PROBLEMS.items():
        per = {}
        t0 = time.perf_counter()
        for seed in range(seeds):
            for sname, sampler in samplers(seed).items():
                per.setdefault(sname, []).append([float(v) for v in best_trace(objective, sampler, budget)])
        per["seconds"] = time.perf_counter() - t0
        result["problems"][name] = per
    result["overhead"] = {
        "trials": n_overhead,
        "tpe_multivariate_s": overhead(n_overhead, True),
        "tpe_s": overhead(n_overhead, False),
    }
    json.dump(result, open(out, "w"))


if __name__ == "__main__":
    main()
