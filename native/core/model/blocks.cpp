#include "core/model/blocks.h"

#include "core/model/dense_kernel.h"
#include "core/model/gate_kernel.h"
#include "core/model/nonlinear.h"
#include "core/model/vsn_kernel.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <vector>

namespace tft::model {

GrnParams GrnParams::bind(const ParameterStore& p, const std::string& s) {
  GrnParams g;
  g.fc1_w = p.get(s + ".fc1.weight");
  g.fc1_b = p.get(s + ".fc1.bias");
  if (p.has(s + ".context.weight")) g.ctx_w = p.get(s + ".context.weight");
  g.fc2_w = p.get(s + ".fc2.weight");
  g.fc2_b = p.get(s + ".fc2.bias");
  g.glu_w = p.get(s + ".glu.weight");
  g.glu_b = p.get(s + ".glu.bias");
  if (p.has(s + ".skip.weight")) {
    g.skip_w = p.get(s + ".skip.weight");
    g.skip_b = p.get(s + ".skip.bias");
  }
  g.norm_w = p.get(s + ".norm.weight");
  g.norm_b = p.get(s + ".norm.bias");
  g.n_out = g.norm_w.size(0);
  return g;
}

GateParams GateParams::bind(const ParameterStore& p, const std::string& s) {
  return {p.get(s + ".glu.weight"), p.get(s + ".glu.bias"), p.get(s + ".norm.weight"), p.get(s + ".norm.bias")};
}

MhaParams MhaParams::bind(const ParameterStore& p, const std::string& s, int64_t heads) {
  MhaParams m{p.get(s + ".q.weight"),
              p.get(s + ".q.bias"),
              p.get(s + ".k.weight"),
              p.get(s + ".k.bias"),
              p.get(s + ".v.weight"),
              p.get(s + ".v.bias"),
              p.get(s + ".out.weight"),
              p.get(s + ".out.bias"),
              heads,
              1};
  m.dk = m.v_w.size(0);
  return m;
}

VsnParams VsnParams::bind(const ParameterStore& p) {
  VsnParams v;
  v.pre_w = p.get("vsn.prescalers.weight");
  v.pre_b = p.get("vsn.prescalers.bias");
  v.fc1_w = p.get("vsn.var_grns.fc1.weight");
  v.fc1_b = p.get("vsn.var_grns.fc1.bias");
  v.fc2_w = p.get("vsn.var_grns.fc2.weight");
  v.fc2_b = p.get("vsn.var_grns.fc2.bias");
  v.glu_w = p.get("vsn.var_grns.glu.weight");
  v.glu_b = p.get("vsn.var_grns.glu.bias");
  v.norm_w = p.get("vsn.var_grns.norm.weight");
  v.norm_b = p.get("vsn.var_grns.norm.bias");
  v.flat = GrnParams::bind(p, "vsn.flat_grn");
  return v;
}

static at::Tensor lin(const Mode& m, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {}) {
  return dense_linear(m.dense, x, w, b);
}

at::Tensor dropout(const at::Tensor& x, double p, DropoutRng& rng) {
  const int64_t n = x.numel();
  // Masks are generated on the host (a hash per element) and moved: identical on every device.
  at::Tensor mask = at::empty(x.sizes(), at::TensorOptions().dtype(at::kFloat).device(at::kCPU));
  float* mp = mask.data_ptr<float>();
  const uint64_t base = rng.counter, seed = rng.seed;
  rng.counter += static_cast<uint64_t>(n);
  const float keep_scale = static_cast<float>(1.0 / (1.0 - p));
  const uint64_t threshold = static_cast<uint64_t>(p * 18446744073709551616.0);  // p * 2^64
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      // splitmix64 of (seed, index): a well-mixed 64-bit value per element
      uint64_t z = seed + (base + static_cast<uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ull;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      mp[i] = z >= threshold ? keep_scale : 0.0f;
    }
  });
  return x * mask.to(x.device(), x.scalar_type());
}

static at::Tensor maybe_dropout(const at::Tensor& x, const Mode& m) {
  if (!(m.training && m.dropout > 0)) return x;
  return m.rng ? dropout(x, m.dropout, *m.rng) : at::dropout(x, m.dropout, true);
}

// CPU float32 inference without autograd: the fused row kernels (gate_kernel.h) apply.
static bool fused_rows(const Mode& m, const at::Tensor& x) {
  return m.dense && !m.training && !m.input_gradients && !m.deeplift && x.is_cpu() && x.scalar_type() == at::kFloat &&
         !at::GradMode::is_enabled();
}

// x as [rows, width] with unit column stride (a view when possible).
static at::Tensor as_rows(const at::Tensor& x, int64_t width) {
  at::Tensor r = x.reshape({-1, width});
  return r.stride(1) == 1 ? r : r.contiguous();
}

static std::vector<int64_t> with_last(const at::Tensor& x, int64_t n) {
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = n;
  return shape;
}

static at::Tensor gate_add_norm_fused(const GateParams& p, const at::Tensor& x, const at::Tensor& skip, const Mode& m) {
  const int64_t d = p.norm_w.size(0);
  const at::Tensor xr = as_rows(x, d), sr = as_rows(skip, d);
  const at::Tensor gb = p.glu_b.contiguous(), nw = p.norm_w.contiguous(), nb = p.norm_b.contiguous();
  at::Tensor out = at::empty({xr.size(0), d}, x.options());
  gate_add_norm_rows({xr.data_ptr<float>(), xr.stride(0), sr.data_ptr<float>(), sr.stride(0), xr.size(0), d,
                      m.dense->transposed(p.glu_w).data_ptr<float>(), gb.data_ptr<float>(), nw.data_ptr<float>(),
                      nb.data_ptr<float>(), out.data_ptr<float>()});
  return out.view(with_last(x, d));
}

at::Tensor gate_add_norm(const GateParams& p, const at::Tensor& x, const at::Tensor& skip, const Mode& m) {
  const int64_t d = p.norm_w.size(0);
  if (fused_rows(m, x) && x.size(-1) == d && p.glu_w.size(1) == d && skip.sizes() == x.sizes())
    return gate_add_norm_fused(p, x, skip, m);
  const at::Tensor g = nl::glu(m, lin(m, maybe_dropout(x, m), p.glu_w, p.glu_b));
  return nl::layer_norm(m, skip + g, p.norm_w.size(0), p.norm_w, p.norm_b, kLayerNormEps);
}

// The context term as one [d] row per `group` consecutive rows of a, when its broadcast has that form:
// per row (same shape as a), per sequence ([B, 1, d] against [B, T, d]) or one row for all ([1, d]).
static bool context_rows(const at::Tensor& a, const at::Tensor& c, int64_t d, at::Tensor& rows, int64_t& group) {
  if (!c.defined()) return true;
  if (c.sizes() == a.sizes()) {
    rows = as_rows(c, d).contiguous();
    group = 1;
  } else if (a.dim() == 3 && c.dim() == 3 && c.size(0) == a.size(0) && c.size(1) == 1 && c.size(2) == d) {
    rows = c.reshape({a.size(0), d}).contiguous();
    group = a.size(1);
  } else if (c.numel() == d) {
    rows = c.reshape({1, d}).contiguous();
    group = std::max<int64_t>(1, a.numel() / d);
  } else {
    return false;
  }
  return true;
}

static at::Tensor grn_fused(const GrnParams& p, const at::Tensor& a, const at::Tensor& ctx, int64_t group,
                            const Mode& m) {
  const int64_t d = p.n_out;
  const at::Tensor ar = as_rows(a, d);
  const at::Tensor b1 = p.fc1_b.contiguous(), b2 = p.fc2_b.contiguous(), gb = p.glu_b.contiguous();
  const at::Tensor nw = p.norm_w.contiguous(), nb = p.norm_b.contiguous();
  at::Tensor out = at::empty({ar.size(0), d}, a.options());
  grn_rows({ar.data_ptr<float>(), ar.stride(0), ctx.defined() ? ctx.data_ptr<float>() : nullptr, group, ar.size(0), d,
            m.dense->transposed(p.fc1_w).data_ptr<float>(), b1.data_ptr<float>(),
            m.dense->transposed(p.fc2_w).data_ptr<float>(), b2.data_ptr<float>(),
            m.dense->transposed(p.glu_w).data_ptr<float>(), gb.data_ptr<float>(), nw.data_ptr<float>(),
            nb.data_ptr<float>(), out.data_ptr<float>()});
  return out.view(with_last(a, d));
}

at::Tensor grn(const GrnParams& p, const at::Tensor& a, const at::Tensor& context_term, const Mode& m) {
  const int64_t d = p.n_out;
  if (fused_rows(m, a) && !p.skip_w.defined() && a.size(-1) == d && p.fc1_w.size(0) == d && p.fc2_w.size(0) == d) {
    at::Tensor ctx;
    int64_t group = 1;
    if (context_rows(a, context_term, d, ctx, group)) return grn_fused(p, a, ctx, group, m);
  }
  at::Tensor h = lin(m, a, p.fc1_w, p.fc1_b);
  if (context_term.defined()) h = h + context_term;
  h = lin(m, nl::elu(m, h), p.fc2_w, p.fc2_b);
  const at::Tensor g = nl::glu(m, lin(m, maybe_dropout(h, m), p.glu_w, p.glu_b));
  const at::Tensor skip = p.skip_w.defined() ? lin(m, a, p.skip_w, p.skip_b) : a;
  return nl::layer_norm(m, skip + g, p.n_out, p.norm_w, p.norm_b, kLayerNormEps);
}

at::Tensor grn_with_context(const GrnParams& p, const at::Tensor& a, const at::Tensor& c, const Mode& m) {
  return grn(p, a, c.defined() ? lin(m, c, p.ctx_w) : at::Tensor(), m);
}

std::pair<at::Tensor, at::Tensor> interpretable_mha(const MhaParams& p, const at::Tensor& q, const at::Tensor& k,
                                                    const at::Tensor& v, bool causal, const Mode& m) {
  const int64_t B = q.size(0), Tq = q.size(1), Tk = k.size(1);
  const at::Tensor Q = lin(m, q, p.q_w, p.q_b).view({B, Tq, p.heads, p.dk}).transpose(1, 2);
  const at::Tensor K = lin(m, k, p.k_w, p.k_b).view({B, Tk, p.heads, p.dk}).transpose(1, 2);
  const at::Tensor V = lin(m, v, p.v_w, p.v_b);  // [B, Tk, dk], shared by every head
  at::Tensor scores = nl::matmul(m, Q, K.transpose(-1, -2)) / std::sqrt(static_cast<double>(p.dk));
  if (causal && Tk > 1) {
    // query i (absolute position Tk - Tq + i) sees keys j <= Tk - Tq + i
    const at::Tensor qi = at::arange(Tk - Tq, Tk, q.options().dtype(at::kLong)).unsqueeze(1);
    const at::Tensor kj = at::arange(0, Tk, q.options().dtype(at::kLong)).unsqueeze(0);
    scores = scores.masked_fill(kj > qi, -std::numeric_limits<float>::infinity());
  }
  const at::Tensor attn = nl::softmax(m, scores, -1);
  const at::Tensor heads = nl::matmul(m, maybe_dropout(attn, m), V.unsqueeze(1));  // [B, H, Tq, dk]
  at::Tensor out = maybe_dropout(lin(m, heads.mean(1), p.out_w, p.out_b), m);
  return {out, attn.mean(1)};
}

std::pair<at::Tensor, at::Tensor> last_query_attention(const MhaParams& p, const at::Tensor& q, const at::Tensor& theta,
                                                       const Mode& m) {
  const int64_t B = q.size(0), d = theta.size(2);
  const at::Tensor Q = lin(m, q.squeeze(1), p.q_w, p.q_b).view({B, p.heads, 1, p.dk});        // [B, H, 1, dk]
  const at::Tensor wk = p.k_w.view({p.heads, p.dk, d});                                       // [H, dk, d]
  const at::Tensor qk = at::matmul(Q, wk).squeeze(2);                                         // [B, H, d]
  const at::Tensor s0 = at::matmul(Q, p.k_b.view({p.heads, p.dk, 1})).view({B, 1, p.heads});  // [B, 1, H]
  const at::Tensor scores =
      (at::bmm(theta, qk.transpose(1, 2)) + s0) / std::sqrt(static_cast<double>(p.dk));  // [B, T, H]
  const at::Tensor attn = at::softmax(scores, 1).transpose(1, 2);                        // [B, H, T]
  const at::Tensor abar = attn.mean(1, /*keepdim=*/true);                                // [B, 1, T]
  const at::Tensor pooled = at::bmm(abar, theta);                                        // [B, 1, d]
  const at::Tensor out = lin(m, lin(m, pooled, p.v_w, p.v_b), p.out_w, p.out_b);         // [B, 1, d]
  return {out, abar};
}

VsnFolded VsnFolded::fold(const VsnParams& p, bool fold_glu) {
  VsnFolded f;
  const int64_t F = p.pre_b.size(0), d = p.pre_b.size(1);
  f.pre_p = p.pre_w.squeeze(-1);  // [F, d]
  f.pre_b = p.pre_b;
  f.u = at::bmm(p.fc1_w, f.pre_p.unsqueeze(-1)).squeeze(-1);
  f.c = at::bmm(p.fc1_w, f.pre_b.unsqueeze(-1)).squeeze(-1) + p.fc1_b;
  if (fold_glu) {
    f.g_t = at::bmm(p.glu_w, p.fc2_w).transpose(1, 2).contiguous();         // [F, d, 2d]
    f.g_b = at::bmm(p.glu_w, p.fc2_b.unsqueeze(-1)).squeeze(-1) + p.glu_b;  // [F, 2d]
  }
  const at::Tensor w1 = p.flat.fc1_w.view({p.flat.fc1_w.size(0), F, d});  // [h, F, d]
  f.flat_u = (w1 * f.pre_p.unsqueeze(0)).sum(-1);                         // [h, F]
  f.flat_c = (w1 * f.pre_b.unsqueeze(0)).sum({1, 2}) + p.flat.fc1_b;      // [h]
  if (p.flat.skip_w.defined()) {
    const at::Tensor ws = p.flat.skip_w.view({F, F, d});
    f.skip_u = (ws * f.pre_p.unsqueeze(0)).sum(-1);                      // [F, F]
    f.skip_c = (ws * f.pre_b.unsqueeze(0)).sum({1, 2}) + p.flat.skip_b;  // [F]
  } else {
    // d == 1: the flattened input already has F entries and the skip is the identity on it.
    f.skip_u = at::diag(f.pre_p.squeeze(-1));
    f.skip_c = f.pre_b.squeeze(-1);
  }
  return f;
}

at::Tensor vsn_weights(const VsnParams& p, const VsnFolded& f, const at::Tensor& x, const at::Tensor& context_term,
                       const Mode& m) {
  at::Tensor h = lin(m, x, f.flat_u, f.flat_c);
  if (context_term.defined()) h = h + context_term;
  h = lin(m, nl::elu(m, h), p.flat.fc2_w, p.flat.fc2_b);
  const at::Tensor g = nl::glu(m, lin(m, maybe_dropout(h, m), p.flat.glu_w, p.flat.glu_b));
  const at::Tensor z =
      nl::layer_norm(m, lin(m, x, f.skip_u, f.skip_c) + g, p.flat.n_out, p.flat.norm_w, p.flat.norm_b, kLayerNormEps);
  return nl::softmax(m, z, -1);
}

VsnOutput variable_selection(const VsnParams& p, const VsnFolded& f, const at::Tensor& x,
                             const at::Tensor& context_term, const Mode& m) {
  const int64_t d = p.pre_b.size(1);
  const at::Tensor w = vsn_weights(p, f, x, context_term, m);  // [N, F]
  if (!m.training && x.is_cpu() && x.scalar_type() == at::kFloat && f.g_t.defined() && !at::GradMode::is_enabled()) {
    const at::Tensor xc = x.contiguous(), wc = w.contiguous();
    const int64_t N = x.size(0), F = x.size(1);
    at::Tensor xi = at::empty({N, d}, x.options());
    const at::Tensor nw = p.norm_w.contiguous(), nb = p.norm_b.contiguous();
    VsnKernelArgs k{xc.data_ptr<float>(),
                    wc.data_ptr<float>(),
                    N,
                    F,
                    d,
                    f.pre_p.data_ptr<float>(),
                    f.pre_b.data_ptr<float>(),
                    f.u.data_ptr<float>(),
                    f.c.data_ptr<float>(),
                    f.g_t.data_ptr<float>(),
                    f.g_b.data_ptr<float>(),
                    nw.data_ptr<float>(),
                    nb.data_ptr<float>(),
                    xi.data_ptr<float>()};
    vsn_fused_forward(k);
    return {xi, w};
  }
  // Per-variable GRNs, all variables at once in [F, N, d] layout: batched products, no loop over variables.
  // (Under DeepLift the stacked rows of x, and so the pairs, run along dimension 1 here.)
  const at::Tensor xt = x.t().unsqueeze(-1);                                                // [F, N, 1]
  const at::Tensor h = nl::elu(m, at::addcmul(f.c.unsqueeze(1), xt, f.u.unsqueeze(1)), 1);  // [F, N, d]
  at::Tensor gamma;
  if (f.g_t.defined() && !(m.training && m.dropout > 0)) {
    gamma = at::baddbmm(f.g_b.unsqueeze(1), h, f.g_t);
  } else {
    at::Tensor eta = at::baddbmm(p.fc2_b.unsqueeze(1), h, p.fc2_w.transpose(1, 2));
    eta = maybe_dropout(eta, m);
    gamma = at::baddbmm(p.glu_b.unsqueeze(1), eta, p.glu_w.transpose(1, 2));
  }
  const at::Tensor e = at::addcmul(f.pre_b.unsqueeze(1), xt, f.pre_p.unsqueeze(1));  // [F, N, d]
  const at::Tensor z = nl::layer_norm(m, e + nl::glu(m, gamma, 1), d, {}, {}, kLayerNormEps, 1);
  const at::Tensor g = at::addcmul(p.norm_b.unsqueeze(1), z, p.norm_w.unsqueeze(1));  // [F, N, d]
  const at::Tensor xi = nl::mul(m, g, w.t().unsqueeze(-1), 1).sum(0);                 // [N, d]
  return {xi, w};
}

}  // namespace tft::model
