#!/usr/bin/python3
"""Optuna's side of the journal interop tests (Debian: apt-get install python3-optuna).

    optuna_interop.py read <journal>            every study in the journal, as JSON on stdout
    optuna_interop.py write <journal> <study>   a study with complete, pruned, failed and waiting trials
    optuna_interop.py optimize <journal> <study> <n> <seed>   n more TPE trials on an existing study
"""
import json
import math
import sys
import warnings

import optuna
from optuna.storages import JournalFileStorage, JournalStorage

warnings.simplefilter("ignore")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage(path):
    return JournalStorage(JournalFileStorage(path))


def clean(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    return v


def summary(study):
    trials = []
    for t in study.trials:
        trials.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": clean(t.value),
                "params": t.params,
                "intermediate": {str(k): clean(v) for k, v in t.intermediate_values.items()},
                "user_attrs": t.user_attrs,
            }
        )
    try:
        best = {"number": study.best_trial.number, "value": study.best_value, "params": study.best_params}
    except ValueError:
        best = None
    return {"name": study.study_name, "direction": study.direction.name, "trials": trials, "best": best}


def read(path):
    s = storage(path)
    out = [summary(optuna.load_study(study_name=x.study_name, storage=s)) for x in optuna.get_all_study_summaries(s)]
    print(json.dumps(out))


def objective(trial):
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 1, 64, log=True)
    c = trial.suggest_categorical("c", ["a", None, True, 3])
    q = trial.suggest_float("q", 0, 1, step=0.25)
    trial.set_user_attr("note", f"trial {trial.number}")
    for step in range(3):
        trial.report(x * x + step if step != 1 or trial.number != 2 else math.nan, step)
        if trial.number == 3 and step == 1:
            raise optuna.TrialPruned()
    if trial.number == 4:
        raise ValueError("planned failure")
    return x * x + math.log(n) + (0.5 if c is None else 0) + q


def write(path, name):
    study = optuna.create_study(study_name=name, storage=storage(path), direction="minimize",
                                sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=7, catch=(ValueError,))
    study.enqueue_trial({"x": 1.5, "n": 8, "c": "a", "q": 0.5})
    print(json.dumps(summary(study)))


def optimize(path, name, n, seed):
    study = optuna.load_study(study_name=name, storage=storage(path),
                              sampler=optuna.samplers.TPESampler(seed=int(seed), multivariate=True))
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=int(n))
    print(json.dumps(summary(study)))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "read":
        read(sys.argv[2])
    elif cmd == "write":
        write(sys.argv[2], sys.argv[3])
    elif cmd == "optimize":
        optimize(*sys.argv[2:6])
