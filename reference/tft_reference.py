"""PyTorch reference implementation of the tft-native model (docs/model.md), same architecture and the same
parameter names as the native core, written the way users' PyTorch code is written today: the Variable
Selection Network applies one GRN per variable in a Python loop, like pytorch-forecasting.

`TFTReference(config, batched_vsn=True)` is the fair "optimised PyTorch" baseline: the same parameters with
the per-variable GRNs as batched matrix products.

Runs with Debian's python3-torch (1.13) and newer PyTorch. The safetensors helpers use only the standard
library, so checkpoints written by tft-native load here without extra packages.
"""
import json
import math
import struct
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

SIGMA_FLOOR = 1e-6
LAYER_NORM_EPS = 1e-5


def default_config(**overrides):
    cfg = dict(nFeatures=8, dHidden=16, nHeads=4, lstmLayers=1, dropout=0.0, seqLen=20, nContext=0,
               maxPosition=1.0, nEntities=0, seed=0)
    cfg.update(overrides)
    return cfg


class StackedLinear(nn.Module):
    """One linear layer per variable, stored stacked: weight [V, out, in], bias [V, out]."""

    def __init__(self, n_vars, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_vars, n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(n_vars, n_out))


class StackedLayerNorm(nn.Module):
    def __init__(self, n_vars, size):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_vars, size))
        self.bias = nn.Parameter(torch.zeros(n_vars, size))


def glu(x, weight, bias, n_out):
    """Gated linear unit: value rows first, gate rows second in `weight`."""
    y = F.linear(x, weight, bias)
    return y[..., :n_out] * torch.sigmoid(y[..., n_out:])


class GatedResidualNetwork(nn.Module):
    """GRN(a, c) = LayerNorm(skip(a) + GLU(dropout(fc2(ELU(fc1(a) + context(c))))))."""

    def __init__(self, n_in, n_hidden, n_out, context_size=0, dropout=0.0):
        super().__init__()
        self.n_out = n_out
        self.fc1 = nn.Linear(n_in, n_hidden)
        if context_size:
            self.context = nn.Linear(context_size, n_hidden, bias=False)
        self.fc2 = nn.Linear(n_hidden, n_hidden)
        self.glu = nn.Linear(n_hidden, 2 * n_out)
        if n_in != n_out:
            self.skip = nn.Linear(n_in, n_out)
        self.norm = nn.LayerNorm(n_out, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(dropout)

    def forward(self, a, c=None):
        h = self.fc1(a)
        if c is not None:
            h = h + self.context(c)
        h = self.fc2(F.elu(h))
        g = glu(self.dropout(h), self.glu.weight, self.glu.bias, self.n_out)
        skip = self.skip(a) if hasattr(self, "skip") else a
        return self.norm(skip + g)


class GateAddNorm(nn.Module):
    """LayerNorm(skip + GLU(dropout(x)))."""

    def __init__(self, size, dropout=0.0):
        super().__init__()
        self.size = size
        self.glu = nn.Linear(size, 2 * size)
        self.norm = nn.LayerNorm(size, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, skip):
        return self.norm(skip + glu(self.dropout(x), self.glu.weight, self.glu.bias, self.size))


class VariableGRNs(nn.Module):
    """The per-variable GRNs of the VSN, parameters stacked over variables (input = output = d)."""

    def __init__(self, n_vars, d):
        super().__init__()
        self.fc1 = StackedLinear(n_vars, d, d)
        self.fc2 = StackedLinear(n_vars, d, d)
        self.glu = StackedLinear(n_vars, d, 2 * d)
        self.norm = StackedLayerNorm(n_vars, d)


class VariableSelectionNetwork(nn.Module):
    def __init__(self, n_vars, d, context_size, dropout, batched):
        super().__init__()
        self.n_vars, self.d, self.batched = n_vars, d, batched
        self.prescalers = StackedLinear(n_vars, 1, d)
        self.var_grns = VariableGRNs(n_vars, d)
        self.flat_grn = GatedResidualNetwork(n_vars * d, d, n_vars, context_size, dropout)
        self.dropout = nn.Dropout(dropout)

    def _var_grn_loop(self, e):
        # e: [..., V, d]; one GRN per variable, as pytorch-forecasting does it.
        g = self.var_grns
        outs = []
        for i in range(self.n_vars):
            a = e[..., i, :]
            h = F.elu(F.linear(a, g.fc1.weight[i], g.fc1.bias[i]))
            h = self.dropout(F.linear(h, g.fc2.weight[i], g.fc2.bias[i]))
            y = glu(h, g.glu.weight[i], g.glu.bias[i], self.d)
            outs.append(F.layer_norm(a + y, (self.d,), g.norm.weight[i], g.norm.bias[i], LAYER_NORM_EPS))
        return torch.stack(outs, dim=-2)

    def _var_grn_batched(self, e):
        # All variables at once as batched matrix products in [V, N, d] layout (what an optimised PyTorch
        # user would write; einsum on [..., V, d] made PyTorch 1.13 permute large copies).
        g = self.var_grns
        lead = e.shape[:-2]
        x = e.reshape(-1, self.n_vars, self.d).transpose(0, 1)  # [V, N, d]
        h = F.elu(torch.baddbmm(g.fc1.bias.unsqueeze(1), x, g.fc1.weight.transpose(1, 2)))
        h = self.dropout(torch.baddbmm(g.fc2.bias.unsqueeze(1), h, g.fc2.weight.transpose(1, 2)))
        y = torch.baddbmm(g.glu.bias.unsqueeze(1), h, g.glu.weight.transpose(1, 2))
        y = y[..., : self.d] * torch.sigmoid(y[..., self.d:])
        z = F.layer_norm(x + y, (self.d,), None, None, LAYER_NORM_EPS)
        z = z * g.norm.weight.unsqueeze(1) + g.norm.bias.unsqueeze(1)
        return z.transpose(0, 1).reshape(*lead, self.n_vars, self.d)

    def forward(self, x, context=None):
        # x: [..., V] -> per-variable embeddings [..., V, d]
        if self.batched:
            e = x.unsqueeze(-1) * self.prescalers.weight[:, :, 0] + self.prescalers.bias
        else:
            e = torch.stack([F.linear(x[..., i:i + 1], self.prescalers.weight[i], self.prescalers.bias[i])
                             for i in range(self.n_vars)], dim=-2)
        flat = e.reshape(*e.shape[:-2], self.n_vars * self.d)
        if context is not None:
            while context.dim() < flat.dim():
                context = context.unsqueeze(-2)
        weights = torch.softmax(self.flat_grn(flat, context), dim=-1)
        g = self._var_grn_batched(e) if self.batched else self._var_grn_loop(e)
        return (g * weights.unsqueeze(-1)).sum(-2), weights


class InterpretableMultiHeadAttention(nn.Module):
    """Per-head queries and keys, one shared value projection, heads averaged (Lim et al. 2019)."""

    def __init__(self, d, n_heads, dropout):
        super().__init__()
        self.h, self.dk = n_heads, d // n_heads
        self.q = nn.Linear(d, n_heads * self.dk)
        self.k = nn.Linear(d, n_heads * self.dk)
        self.v = nn.Linear(d, self.dk)
        self.out = nn.Linear(self.dk, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, q, k, v, causal):
        B, Tq, _ = q.shape
        Tk = k.shape[1]
        Q = self.q(q).view(B, Tq, self.h, self.dk).transpose(1, 2)
        K = self.k(k).view(B, Tk, self.h, self.dk).transpose(1, 2)
        V = self.v(v)
        scores = Q @ K.transpose(-1, -2) / math.sqrt(self.dk)
        if causal:
            # query i (the last Tq of the Tk positions) sees keys 0..(Tk - Tq + i)
            qi = torch.arange(Tk - Tq, Tk).unsqueeze(1)
            kj = torch.arange(Tk).unsqueeze(0)
            scores = scores.masked_fill(kj > qi, float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        heads = self.dropout(attn) @ V.unsqueeze(1)
        return self.dropout(self.out(heads.mean(1))), attn.mean(1)


class TFTReference(nn.Module):
    def __init__(self, config, batched_vsn=False):
        super().__init__()
        c = dict(config)
        self.cfg = c
        F_, d, p = c["nFeatures"], c["dHidden"], c["dropout"]
        E = c["nEntities"]
        ctx = d if E > 0 else 0
        if E > 0:
            self.entity_embedding = nn.Embedding(E, d)
            self.static_context_vsn = GatedResidualNetwork(d, d, d, 0, p)
            self.static_context_h = GatedResidualNetwork(d, d, d, 0, p)
            self.static_context_c = GatedResidualNetwork(d, d, d, 0, p)
            self.static_context_enrich = GatedResidualNetwork(d, d, d, 0, p)
        self.vsn = VariableSelectionNetwork(F_, d, ctx, p, batched_vsn)
        self.lstm = nn.LSTM(d, d, num_layers=c["lstmLayers"], batch_first=True,
                            dropout=p if c["lstmLayers"] > 1 else 0.0)
        self.post_lstm_gate = GateAddNorm(d, p)
        self.enrichment = GatedResidualNetwork(d, d, d, ctx, p)
        if c["nContext"] > 0:
            self.context_self_attention = InterpretableMultiHeadAttention(d, c["nHeads"], p)
            self.context_self_gate = GateAddNorm(d, p)
            self.cross_attention = InterpretableMultiHeadAttention(d, c["nHeads"], p)
            self.cross_gate = GateAddNorm(d, p)
        self.self_attention = InterpretableMultiHeadAttention(d, c["nHeads"], p)
        self.attention_gate = GateAddNorm(d, p)
        self.positionwise_grn = GatedResidualNetwork(d, d, d, 0, p)
        self.pre_output_gate = GateAddNorm(d, p)
        self.position_head = nn.Linear(d, 1)
        self.mu_head = nn.Linear(d, 1)
        self.sigma_head = nn.Linear(d, 1)

    def _statics(self, entity):
        if entity is None or self.cfg["nEntities"] == 0:
            return None
        s = self.entity_embedding(entity)
        return dict(vsn=self.static_context_vsn(s), h=self.static_context_h(s), c=self.static_context_c(s),
                    enrich=self.static_context_enrich(s))

    def _encode(self, x, statics):
        """VSN -> LSTM -> gated skip: [B, T, F] -> ([B, T, d] after the gate, VSN weights)."""
        xi, w = self.vsn(x, statics["vsn"] if statics else None)
        B = x.shape[0]
        L, d = self.cfg["lstmLayers"], self.cfg["dHidden"]
        if statics:
            h0 = statics["h"].unsqueeze(0).expand(L, B, d).contiguous()
            c0 = statics["c"].unsqueeze(0).expand(L, B, d).contiguous()
        else:
            h0 = x.new_zeros(L, B, d)
            c0 = x.new_zeros(L, B, d)
        phi, _ = self.lstm(xi, (h0, c0))
        return self.post_lstm_gate(phi, xi), w

    def forward(self, x, entity=None, context=None, context_entity=None, all_steps=False):
        statics = self._statics(entity)
        phi_t, vsn_w = self._encode(x, statics)
        theta = self.enrichment(phi_t, statics["enrich"].unsqueeze(1) if statics else None)
        if self.cfg["nContext"] > 0:
            B, C, Tc, F_ = context.shape
            cstat = self._statics(context_entity.reshape(B * C)) if context_entity is not None else None
            enc, _ = self._encode(context.reshape(B * C, Tc, F_), cstat)
            k = enc[:, -1, :].reshape(B, C, -1)
            a, _ = self.context_self_attention(k, k, k, causal=False)
            kappa = self.context_self_gate(a, k)
            a, _ = self.cross_attention(theta, kappa, kappa, causal=False)
            theta = self.cross_gate(a, theta)
        q = theta if all_steps else theta[:, -1:, :]
        a, attn = self.self_attention(q, theta, theta, causal=True)
        beta = self.attention_gate(a, q)
        psi = self.positionwise_grn(beta)
        skip = phi_t if all_steps else phi_t[:, -1:, :]
        delta = self.pre_output_gate(psi, skip)
        pos = self.cfg["maxPosition"] * torch.tanh(self.position_head(delta)).squeeze(-1)
        mu = self.mu_head(delta).squeeze(-1)
        sigma = F.softplus(self.sigma_head(delta)).squeeze(-1) + SIGMA_FLOOR
        if not all_steps:
            pos, mu, sigma, attn = pos[:, 0], mu[:, 0], sigma[:, 0], attn[:, 0, :]
        return dict(position=pos, mu=mu, sigma=sigma, vsn_weights=vsn_w, attention=attn)


def init_parameters(model, seed):
    """Glorot-uniform weights, zero biases, unit LayerNorm gains, N(0,1) entity embeddings, seeded."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith(".bias") or "bias_" in name:
                p.zero_()
            elif name == "entity_embedding.weight":
                p.normal_(0.0, 1.0, generator=g)
            else:
                fan_out, fan_in = p.shape[-2], p.shape[-1]
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                p.uniform_(-bound, bound, generator=g)


def randomize_parameters(model, seed, scale=0.5):
    """Random values everywhere (biases and gains too), for parity fixtures that exercise every term."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * scale)
            if name.endswith("norm.weight"):
                p.add_(1.0)


# ---- safetensors, standard library only -------------------------------------------------------------

_DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I64": (torch.int64, 8), "I32": (torch.int32, 4)}


def save_safetensors(path, tensors, metadata=None):
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        t = t.detach().contiguous().to(torch.float32)
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, size = _DTYPES[info["dtype"]]
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + a:base + b]), dtype=dtype) if b > a else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, header.get("__metadata__", {})


# ---- training losses (Deep Momentum Networks / X-Trend) -----------------------------------------------

def strategy_returns(position, target, warmup=0, scale=None, cost_bps=0.0):
    """R_t = z_t y_t - c |z_t s_t - z_{t-1} s_{t-1}| for t >= warmup, flattened over (window, step)."""
    T = position.shape[1]
    w = min(warmup, T - 1)
    r = (position * target)[:, w:]
    if cost_bps > 0 and scale is not None and T > 1:
        lev = position * scale
        turnover = (lev[:, 1:] - lev[:, :-1]).abs()
        start = max(w, 1)
        r = (position * target)[:, start:] - turnover[:, start - 1:] * (cost_bps * 1e-4)
    return r.reshape(-1)


def sharpe_loss(position, target, warmup=0, scale=None, cost_bps=0.0):
    r = strategy_returns(position, target, warmup, scale, cost_bps)
    # Population std, sqrt(E[R^2] - E[R]^2), as in the papers' Sharpe loss (computed centred).
    mean = r.mean()
    sd = (r - mean).pow(2).mean().sqrt()
    return -(mean / (sd + 1e-9)) * math.sqrt(252.0)


def gaussian_nll(mu, sigma, target, warmup=0):
    w = min(warmup, mu.shape[1] - 1)
    mu, sigma, y = mu[:, w:], sigma[:, w:], target[:, w:]
    return (0.5 * math.log(2 * math.pi) + torch.log(sigma) + (y - mu) ** 2 / (2 * sigma ** 2)).mean()


def training_loss(out, target, mode="sharpe", mle_weight=0.1, warmup=0, scale=None, cost_bps=0.0):
    loss = sharpe_loss(out["position"], target, warmup, scale, cost_bps)
    if mode == "joint_mle":
        loss = loss + mle_weight * gaussian_nll(out["mu"], out["sigma"], target, warmup)
    return loss
