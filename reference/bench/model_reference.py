#!/usr/bin/python3
"""What a user would otherwise run: the PyTorch reference model (reference/tft_reference.py), as written (one
GRN per variable in a Python loop) and with a batched VSN (a fair "optimised PyTorch"), timed on the inputs
and weights tft-native gets, with the same thread count.

    model_reference.py <dir> --threads N

<dir> holds config.json, weights.safetensors (tft-native's), batch.f32 [B,T,F], panel.f32 [A,D,F] and
plan.json. Prints one JSON line of timings (seconds) and the max difference of the outputs to tft-native's.
"""
import json
import os
import time

import torch

from bench_common import R, load_run


def timed(fn, reps):
    """Median seconds of `reps` calls after one warm-up call, and the last result."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], out


def chunked(m, x, chunk):
    """The model over x in chunks of `chunk` sequences, as an optimised user bounds activation memory
    (the batched VSN at once over 512 x 63 steps materialises ~0.5 GB per intermediate and runs slower)."""
    outs = [m(x[i:i + chunk]) for i in range(0, x.shape[0], chunk)]
    return {k: torch.cat([o[k] for o in outs]) for k in outs[0] if outs[0][k] is not None}


def main():
    d, threads, cfg, plan, weights = load_run()
    T, F = cfg["seqLen"], cfg["nFeatures"]
    x = torch.from_numpy(__import__("numpy").fromfile(os.path.join(d, "batch.f32"), dtype="float32")).reshape(-1, T, F)
    panel = torch.from_numpy(__import__("numpy").fromfile(os.path.join(d, "panel.f32"), dtype="float32")).reshape(
        plan["assets"], plan["days"], F)
    out = {"threads": threads, "chunk": plan["chunk"]}
    chunk = plan["chunk"]
    for label, batched in (("loop", False), ("batched", True)):
        m = R.TFTReference(cfg, batched_vsn=batched)
        m.load_state_dict(weights)
        m.eval()
        with torch.no_grad():
            # The same sequences and windows for both variants and for tft-native.
            nb = plan["batch"]
            t, res = timed(lambda: chunked(m, x[:nb], chunk), plan["reps"])
            out[f"{label}_batch_seq_per_s"] = nb / t
            out[f"{label}_batch_sequences"] = nb
            native = torch.from_numpy(__import__("numpy").fromfile(os.path.join(d, "native_position.f32"), dtype="float32"))
            out[f"{label}_max_abs_diff_positions"] = float((res["position"] - native[: res["position"].shape[0]]).abs().max())
            t1, _ = timed(lambda: m(x[:1]), plan["latency_reps"])
            out[f"{label}_latency_s"] = t1
            # rolling: every window of one asset, through the model as batches of windows
            nw = plan["rolling_windows"]
            win = panel[0].unfold(0, T, 1).permute(0, 2, 1)[:nw].contiguous()
            tr, _ = timed(lambda: chunked(m, win, chunk), plan["reps"])
            out[f"{label}_rolling_windows_per_s"] = nw / tr
            out[f"{label}_rolling_windows"] = nw
    print(json.dumps(out))


if __name__ == "__main__":
    main()
