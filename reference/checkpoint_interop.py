#!/usr/bin/python3
"""Interop between tft-native checkpoints and the PyTorch reference model, standard library + torch only.

    checkpoint_interop.py predict <checkpoint_dir> <inputs.safetensors> <out.safetensors>
        Verifies a checkpoint written by tft-native (the sha256 of every listed file and the metadata digest
        recorded in model.safetensors), loads it into TFTReference and writes its predictions for the inputs
        (x [B, T, F], optional entity [B] as float).
    checkpoint_interop.py export <config.json> <checkpoint_root> <out_dir> [seed]
        Builds a reference model with random weights from the config and saves it as a complete checkpoint
        folder, {checkpoint_root}/{modelType}/v{n}_{timestamp}/ (modelType "pytorch"), as CheckpointManager
        does; prints that folder. Writes inputs (x, entity) and the model's predictions to out_dir.
    checkpoint_interop.py digest <metadata.json>
        Prints the metadata digest of a metadata document (see `metadata_digest`).

The metadata digest binds metadata.json to the weights: the sha256 of the canonical JSON of the document
without the weights' own "files" entry, stored under "tft_native.metadata_sha256" in the safetensors `__metadata__`.
Canonical JSON is RFC 8785's: keys sorted by UTF-16 code units, no whitespace, strings escaped as
ECMAScript's JSON.stringify does, numbers in ECMAScript's shortest round-trip form.
"""
import datetime
import hashlib
import json
import os
import sys
import uuid

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tft_reference as R  # noqa: E402

SCHEMA_VERSION = 2
DIGEST_KEY = "tft_native.metadata_sha256"
WEIGHTS_FILE = "model.safetensors"
METADATA_FILE = "metadata.json"
OPTIONAL_FILES = {"feature_selector.json", "study.json"}


# ---- canonical JSON (RFC 8785) ----------------------------------------------------------------------

def _number(x):
    """ECMAScript Number::toString of a finite double (what JSON.stringify writes)."""
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")):
        return "null"  # as JSON.stringify writes a number that overflowed when parsed
    if f == 0:
        return "0"  # -0 too
    sign = "-" if f < 0 else ""
    r = repr(abs(f))  # shortest digits that round-trip, as ECMAScript picks them
    mant, _, exp = r.partition("e")
    ip, _, fp = mant.partition(".")
    digits = ip + fp
    point = len(ip) + (int(exp) if exp else 0)  # the decimal point sits after `point` digits
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    es = ("+" if e >= 0 else "-") + str(abs(e))
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es


_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif c < 0x20 or 0xD800 <= c <= 0xDFFF:  # control characters and lone surrogates
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical_json(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return _number(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canonical_json(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_string(k) + ":" + canonical_json(v[k]) for k in keys) + "}"
    raise TypeError("no JSON form for %r" % type(v))


def metadata_digest(doc):
    # Every `files` entry but the weights' own (the weights carry the digest, so theirs would be circular).
    files = {k: v for k, v in (doc.get("files") or {}).items() if k != WEIGHTS_FILE}
    rest = dict(doc, files=files)
    return hashlib.sha256(canonical_json(rest).encode("utf-8", "surrogatepass")).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


# ---- commands ---------------------------------------------------------------------------------------

def verify_checkpoint(ckpt):
    """The integrity checks of CheckpointManager.load that need no model: file hashes and the digest."""
    meta = json.load(open(os.path.join(ckpt, METADATA_FILE), encoding="utf-8"))
    if meta.get("schemaVersion") != SCHEMA_VERSION:
        sys.exit("%s: schemaVersion %r, this script reads %d" % (ckpt, meta.get("schemaVersion"), SCHEMA_VERSION))
    for name, entry in meta["files"].items():
        if name != WEIGHTS_FILE and name not in OPTIONAL_FILES:
            sys.exit("%s: unknown file %r listed" % (ckpt, name))
        digest, n = sha256_file(os.path.join(ckpt, name))
        if (digest, n) != (entry["sha256"], entry["bytes"]):
            sys.exit("%s: %s differs from its recorded sha256/size" % (ckpt, name))
    weights, header_meta = R.load_safetensors(os.path.join(ckpt, WEIGHTS_FILE))
    if header_meta.get(DIGEST_KEY) != metadata_digest(meta):
        sys.exit("%s: metadata.json does not match the digest recorded in %s" % (ckpt, WEIGHTS_FILE))
    return meta, weights


def predict_with(model, io):
    kw = {}
    if "entity" in io:
        kw["entity"] = io["entity"].to(torch.int64)
    with torch.no_grad():
        out = model(io["x"], **kw)
    return {"position": out["position"], "mu": out["mu"], "sigma": out["sigma"], "vsn_weights": out["vsn_weights"]}


def cmd_predict(ckpt, inputs, out_path):
    meta, weights = verify_checkpoint(ckpt)
    model = R.TFTReference(meta["config"])
    model.load_state_dict(weights)  # strict: every name and shape must match
    model.eval()
    io, _ = R.load_safetensors(inputs)
    R.save_safetensors(out_path, predict_with(model, io))


def _reserve_version(type_dir):
    """As CheckpointManager: mkdir of .version-{n} is granted to one writer only; markers are never removed."""
    top = 0
    for name in os.listdir(type_dir):
        for prefix in (".version-", "v"):
            rest = name[len(prefix):].split("_", 1)[0] if name.startswith(prefix) else ""
            if rest.isdigit():
                top = max(top, int(rest))
    v = top + 1
    while True:
        try:
            os.mkdir(os.path.join(type_dir, ".version-%d" % v))
            return v
        except FileExistsError:
            v += 1


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(root, model_type, model, cfg):
    """A complete checkpoint folder, written as CheckpointManager.save writes one (temporary folder + rename)."""
    type_dir = os.path.join(root, model_type)
    os.makedirs(type_dir, exist_ok=True)
    tmp = os.path.join(type_dir, ".tmp-%d-%s" % (os.getpid(), uuid.uuid4()))
    os.mkdir(tmp)
    version = _reserve_version(type_dir)
    now = datetime.datetime.now(datetime.timezone.utc)
    created = now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)
    n_assets = cfg["nEntities"]
    meta = {
        "schemaVersion": SCHEMA_VERSION,
        "version": version,
        "modelType": model_type,
        "createdAt": created,
        "gitCommit": None,
        "gitDirty": None,
        "featureNames": ["f%d" % i for i in range(cfg["nFeatures"])],
        "nFeatures": cfg["nFeatures"],
        "nAssets": n_assets,
        "assetNames": ["A%d" % i for i in range(n_assets)],
        "config": cfg,
        "normalization": None,
        "trainingInfo": None,
        "featureSelection": None,
        "hpTuning": None,
        "oos": None,
    }
    weights = os.path.join(tmp, WEIGHTS_FILE)
    R.save_safetensors(weights, model.state_dict(), {"format": "pt", "modelType": model_type, DIGEST_KEY: metadata_digest(meta)})
    _fsync(weights)
    digest, n = sha256_file(weights)
    meta["files"] = {WEIGHTS_FILE: {"sha256": digest, "bytes": n}}
    with open(os.path.join(tmp, METADATA_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    _fsync(tmp)
    final = os.path.join(type_dir, "v%d_%s" % (version, now.strftime("%Y%m%dT%H%M%S") + "%03dZ" % (now.microsecond // 1000)))
    os.rename(tmp, final)
    _fsync(type_dir)
    return final


def cmd_export(config_path, root, out_dir, seed):
    cfg = R.default_config(**json.load(open(config_path)))
    model = R.TFTReference(cfg)
    R.randomize_parameters(model, seed, scale=0.3)
    model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    io = {"x": torch.randn(4, cfg["seqLen"], cfg["nFeatures"], generator=g)}
    if cfg["nEntities"]:
        io["entity"] = torch.randint(0, cfg["nEntities"], (4,), generator=g).to(torch.float32)
    os.makedirs(out_dir, exist_ok=True)
    R.save_safetensors(os.path.join(out_dir, "inputs.safetensors"), io)
    R.save_safetensors(os.path.join(out_dir, "predictions.safetensors"), predict_with(model, io))
    print(save_checkpoint(root, "pytorch", model, cfg))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "predict":
        cmd_predict(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "export":
        cmd_export(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif len(sys.argv) == 3 and sys.argv[1] == "digest":
        print(metadata_digest(json.load(open(sys.argv[2], encoding="utf-8"))))
    else:
        sys.exit(__doc__)
