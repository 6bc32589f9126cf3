#!/usr/bin/python3
"""Training throughput of the PyTorch reference (loop-style VSN and batched VSN) on the windows tft-native
trained on, with the same thread count: forward, Sharpe loss, backward, gradient clipping, Adam step.

    training_reference.py <dir> --threads N

<dir> holds config.json, weights.safetensors, features.f32 [A,D,F], target.f32 [A,D], windows.i32 (pairs of
asset, last day) and plan.json. Prints one JSON line with windows per second for each variant.
"""
import json
import os
import time

import numpy as np
import torch

from bench_common import R, load_run


def main():
    d, threads, cfg, plan, weights = load_run()
    A, D, F, T = plan["assets"], plan["days"], cfg["nFeatures"], cfg["seqLen"]
    feats = torch.from_numpy(np.fromfile(os.path.join(d, "features.f32"), dtype=np.float32)).reshape(A, D, F)
    target = torch.from_numpy(np.fromfile(os.path.join(d, "target.f32"), dtype=np.float32)).reshape(A, D)
    pairs = np.fromfile(os.path.join(d, "windows.i32"), dtype=np.int32).reshape(-1, 2)
    out = {"threads": threads}
    for label, batched in (("loop", False), ("batched", True)):
        n = plan["windows"]  # the same windows tft-native is timed on
        m = R.TFTReference(cfg, batched_vsn=batched)
        m.load_state_dict(weights)
        m.train()
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        B = plan["batch"]
        use = pairs[:n]

        def batch(i):
            sel = use[i:i + B]
            x = torch.stack([feats[a, t - T + 1:t + 1] for a, t in sel])
            y = torch.stack([target[a, t - T + 1:t + 1] for a, t in sel])
            return x, y

        def step(i):
            x, y = batch(i)
            o = m(x, all_steps=True)
            loss = R.training_loss(o, y, mode="sharpe", warmup=plan["warmup"])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()

        step(0)  # warm-up
        t0 = time.perf_counter()
        for i in range(0, len(use), B):
            step(i)
        out[f"{label}_windows_per_s"] = len(use) / (time.perf_counter() - t0)
        out[f"{label}_windows"] = int(len(use))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
