#!/usr/bin/python3
"""Interop between tft-native checkpoints and the PyTorch reference model, standard library + torch only.

    checkpoint_interop.py predict <checkpoint_dir> <inputs.safetensors> <out.safetensors>
        Loads a checkpoint written by tft-native (metadata.json + model.safetensors) into TFTReference and
        writes its predictions for the inputs (x [B, T, F], optional entity [B] as float).
    checkpoint_interop.py export <config.json> <out_dir> [seed]
        Builds a reference model with random weights from the config and writes model.safetensors, inputs
        (x, entity) and its predictions, for tft-native to load and compare.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tft_reference as R  # noqa: E402


def predict_with(model, io):
    kw = {}
    if "entity" in io:
        kw["entity"] = io["entity"].to(torch.int64)
    with torch.no_grad():
        out = model(io["x"], **kw)
    return {"position": out["position"], "mu": out["mu"], "sigma": out["sigma"], "vsn_weights": out["vsn_weights"]}


def cmd_predict(ckpt, inputs, out_path):
    meta = json.load(open(os.path.join(ckpt, "metadata.json")))
    weights, _ = R.load_safetensors(os.path.join(ckpt, "model.safetensors"))
    model = R.TFTReference(meta["config"])
    model.load_state_dict(weights)  # strict: every name and shape must match
    model.eval()
    io, _ = R.load_safetensors(inputs)
    R.save_safetensors(out_path, predict_with(model, io))


def cmd_export(config_path, out_dir, seed):
    cfg = R.default_config(**json.load(open(config_path)))
    model = R.TFTReference(cfg)
    R.randomize_parameters(model, seed, scale=0.3)
    model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    io = {"x": torch.randn(4, cfg["seqLen"], cfg["nFeatures"], generator=g)}
    if cfg["nEntities"]:
        io["entity"] = torch.randint(0, cfg["nEntities"], (4,), generator=g).to(torch.float32)
    os.makedirs(out_dir, exist_ok=True)
    R.save_safetensors(os.path.join(out_dir, "model.safetensors"), model.state_dict())
    R.save_safetensors(os.path.join(out_dir, "inputs.safetensors"), io)
    R.save_safetensors(os.path.join(out_dir, "predictions.safetensors"), predict_with(model, io))


if __name__ == "__main__":
    if sys.argv[1] == "predict":
        cmd_predict(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "export":
        cmd_export(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        sys.exit("usage: checkpoint_interop.py predict|export ...")
