#!/usr/bin/python3
"""What a user would otherwise run to explain the model: Captum 0.8 on the PyTorch reference model
(reference/tft_reference.py), as written (one GRN per variable in a Python loop) and with a batched VSN,
timed on the inputs and weights tft-native gets, with the same thread count (benchmarks/attribution.bench.ts).

    attribution_reference.py <dir> --threads N [--captum DIR] [--skip-loop]
    attribution_reference.py --check [--captum DIR]

<dir> holds config.json, weights.safetensors (tft-native's), x.f32 [B,T,F], dist.f32 [K,T,F] (the
GradientSHAP baseline distribution), plan.json (sizes, chunking and repetitions) and tft-native's own
attributions native_ig.f32, native_saliency.f32 and native_ablation.f32 [B,T,F]. Prints one JSON line:
seconds per job (median of the repetitions after a warm-up) and the differences of Captum's deterministic
attributions (IG, Saliency, FeatureAblation) to tft-native's. Progress goes to stderr. `--check` prints one
JSON line saying whether torch and Captum import (and their versions) and exits.

Jobs, on the model output `position` at the last step, model in eval mode, parameters frozen:
  IG          IntegratedGradients(f).attribute(x, n_steps, method="gausslegendre", zeros baseline,
              internal_batch_size from plan.json: Captum runs internal_batch_size // B steps per pass)
  NT(GSHAP)   NoiseTunnel(GradientShap(f)).attribute(x, nt_type="smoothgrad", nt_samples, stdevs,
              draw_baseline_from_distrib=True (Captum needs it for a K-row distribution inside a tunnel),
              baselines=dist, n_samples, nt_samples_batch_size from plan.json)
  Saliency    Saliency(f).attribute(x, abs=True)
  Ablation    FeatureAblation(f).attribute(x, feature_mask = one group per feature, baselines 0,
              perturbations_per_eval from plan.json)
  DeepLift    DeepLift(module).attribute(x, baselines 0, return_convergence_delta=True). Captum's rules
              hook nn.Module nonlinearities only; the reference calls F.elu, torch.sigmoid, torch.softmax
              and nn.LSTM, so Captum's DeepLift is (x - x') * gradient there: its completeness gap is
              reported next to tft-native's.

Captum is not a dependency of the project. Extract tag v0.8.0 of github.com/pytorch/captum and put the
directory holding its `captum/` package on PYTHONPATH or pass it as --captum. Captum imports tqdm and
matplotlib at import time, hence Debian's python3-tqdm and python3-matplotlib (not otherwise used);
python3-torch (1.13) and python3-numpy are enough otherwise:

    git clone https://github.com/pytorch/captum /tmp/captum-src
    mkdir -p /tmp/captum && git -C /tmp/captum-src archive v0.8.0 captum | tar -x -C /tmp/captum
    PYTHONPATH=/tmp/captum npm run bench:attribution        # or: npm run bench:attribution -- --captum /tmp/captum
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tft_reference as R  # noqa: E402


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def add_captum_path():
    """--captum DIR: the directory holding the `captum` package (or the package directory itself)."""
    d = arg("--captum")
    if not d:
        return
    d = os.path.abspath(d)
    if os.path.isfile(os.path.join(d, "__init__.py")) and os.path.basename(d) == "captum":
        d = os.path.dirname(d)
    sys.path.insert(0, d)


def check():
    out = {"ok": False, "torch": torch.__version__, "numpy": np.__version__}
    try:
        import captum
        import captum.attr  # noqa: F401  (imports tqdm and matplotlib)
        out.update(ok=True, captum=captum.__version__, path=os.path.dirname(os.path.dirname(captum.__file__)))
    except Exception as e:  # noqa: BLE001  (any import failure means: run without Captum)
        out["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


def log(msg):
    print(f"  [captum] {msg}", file=sys.stderr, flush=True)


def timed(fn, reps, warmup):
    """Median seconds of `reps` calls of fn() after one call of warmup(), and the last result."""
    warmup()
    times = []
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], out


def diffs(captum_attr, native):
    """max |tft-native - Captum|, and that over max |Captum| (the relative difference the bench prints)."""
    a = captum_attr.detach().to(torch.float64).reshape(-1)
    b = torch.from_numpy(native.astype(np.float64)).reshape(-1)
    d = float((a - b).abs().max())
    scale = float(a.abs().max())
    return d, d / scale if scale > 0 else float("inf"), scale


def main():
    add_captum_path()
    if "--check" in sys.argv:
        check()
        return
    from captum.attr import DeepLift, FeatureAblation, GradientShap, IntegratedGradients, NoiseTunnel, Saliency

    # Saliency sets requires_grad on the inputs itself and says so on every call.
    warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")

    d = sys.argv[1]
    threads = int(arg("--threads"))
    torch.set_num_threads(threads)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(d, "plan.json")) as f:
        plan = json.load(f)
    weights, _ = R.load_safetensors(os.path.join(d, "weights.safetensors"))
    T, F = cfg["seqLen"], cfg["nFeatures"]

    def load(name, rows=-1):
        return torch.from_numpy(np.fromfile(os.path.join(d, name), dtype=np.float32)).reshape(rows, T, F)

    x = load("x.f32")
    dist = load("dist.f32")
    native = {k: np.fromfile(os.path.join(d, f"native_{k}.f32"), dtype=np.float32)
              for k in ("ig", "saliency", "ablation")}
    B = x.shape[0]
    assert B == plan["batch"], (B, plan["batch"])
    mask = torch.arange(F).view(1, 1, F).expand(1, T, F).contiguous()  # mask[., t, f] = f: a group per feature
    warm = x[: min(2, B)]

    out = {"threads": threads, "torch": torch.__version__, "batch": B}
    variants = [("batched", True)] if "--skip-loop" in sys.argv else [("loop", False), ("batched", True)]
    for label, batched in variants:
        m = R.TFTReference(cfg, batched_vsn=batched)
        m.load_state_dict(weights)
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)

        def fwd(inp):
            return m(inp)["position"]

        # The loop variant is slow: its repetitions (default 1) follow a warm-up on the first 2 inputs only;
        # the batched variant warms up on the whole job.
        reps = plan["loop_reps"] if label == "loop" else plan["reps"]

        def warmup_of(job):
            return (lambda: job(warm)) if label == "loop" else (lambda: job(x))

        def ig(inp):
            return IntegratedGradients(fwd).attribute(inp, n_steps=plan["n_steps"], method="gausslegendre",
                                                      internal_batch_size=plan["ig_internal_batch_size"])

        def nt_shap(inp):
            torch.manual_seed(0)
            np.random.seed(0)
            return NoiseTunnel(GradientShap(fwd)).attribute(
                inp, nt_type="smoothgrad", nt_samples=plan["nt_samples"], stdevs=plan["nt_stdevs"],
                nt_samples_batch_size=plan["nt_samples_batch_size"], draw_baseline_from_distrib=True,
                baselines=dist, n_samples=plan["shap_samples"])

        def saliency(inp):
            return Saliency(fwd).attribute(inp, abs=True)

        class Position(torch.nn.Module):
            """DeepLift takes a module (it hooks the model's submodules), not a function."""

            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, inp):
                return self.inner(inp)["position"]

        def deeplift(inp):
            return DeepLift(Position(m)).attribute(inp, baselines=torch.zeros_like(inp), return_convergence_delta=True)

        def ablation(inp):
            return FeatureAblation(fwd).attribute(inp, feature_mask=mask,
                                                  perturbations_per_eval=plan["perturbations_per_eval"])

        t0 = time.perf_counter()
        log(f"{label} VSN: IntegratedGradients {B} x {plan['n_steps']} steps, {reps} rep(s)…")
        out[f"{label}_ig_s"], a = timed(lambda: ig(x), reps, warmup_of(ig))
        out[f"{label}_ig_reps"] = reps
        out[f"{label}_ig_max_abs_diff"], out[f"{label}_ig_max_rel_diff"], out[f"{label}_ig_max_abs"] = diffs(
            a, native["ig"])
        log(f"{label} VSN: NoiseTunnel(GradientShap) {B} x {plan['nt_samples']} x {plan['shap_samples']}…")
        out[f"{label}_nt_shap_s"], _ = timed(lambda: nt_shap(x), reps, warmup_of(nt_shap))
        log(f"{label} VSN: Saliency {B}, {plan['saliency_reps']} reps…")
        out[f"{label}_saliency_s"], a = timed(lambda: saliency(x), plan["saliency_reps"], lambda: saliency(x))
        out[f"{label}_saliency_max_abs_diff"], out[f"{label}_saliency_max_rel_diff"], _ = diffs(
            a, native["saliency"])
        log(f"{label} VSN: FeatureAblation {B} x {F} groups…")
        out[f"{label}_ablation_s"], a = timed(lambda: ablation(x), reps, warmup_of(ablation))
        out[f"{label}_ablation_max_abs_diff"], out[f"{label}_ablation_max_rel_diff"], _ = diffs(
            a, native["ablation"])
        log(f"{label} VSN: DeepLift {B}…")
        out[f"{label}_deeplift_s"], (a, delta) = timed(lambda: deeplift(x), plan["saliency_reps"], lambda: deeplift(x))
        with torch.no_grad():
            change = (fwd(x) - fwd(torch.zeros_like(x))).abs().max()
        out[f"{label}_deeplift_max_abs_delta"] = float(delta.abs().max())
        out[f"{label}_deeplift_max_abs_change"] = float(change)
        log(f"{label} VSN done in {time.perf_counter() - t0:.0f} s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
