"""What the reference benchmarks share: the reference model module (reference/tft_reference.py, as R) and
the inputs of a run, read from the command line `<script> <dir> --threads N`."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tft_reference as R  # noqa: E402


def load_run():
    """<dir> and N from the command line, torch set to N threads, and <dir>'s config.json, plan.json and
    weights.safetensors (tft-native's): returns (dir, threads, config, plan, weights)."""
    d = sys.argv[1]
    threads = int(sys.argv[sys.argv.index("--threads") + 1])
    torch.set_num_threads(threads)
    cfg = json.load(open(os.path.join(d, "config.json")))
    plan = json.load(open(os.path.join(d, "plan.json")))
    weights, _ = R.load_safetensors(os.path.join(d, "weights.safetensors"))
    return d, threads, cfg, plan, weights
