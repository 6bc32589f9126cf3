// The native model against the PyTorch reference (golden fixtures from reference/fixtures/
// make_model_fixtures.py), the rolling == batch identity, state-dict round trips, determinism and bad input.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "core/cpu_isa.h"
#include "core/model/dense_kernel.h"
#include "core/model/safetensors.h"
#include "core/model/tft_model.h"
#include "core/runtime.h"
#include "fixtures.h"
#include "harness.h"

using namespace tft;
using namespace tft::model;
using tft::test::config_from_metadata;
using tft::test::fixtures_dir;

namespace {

const char* kCases[] = {"plain", "entities", "xtrend", "context_only", "reference_size", "single_step"};

struct Fixture {
  TftConfig config;
  std::map<std::string, at::Tensor> weights;
  std::map<std::string, at::Tensor> io;
};

Fixture load_fixture(const std::string& name) {
  const std::string dir = fixtures_dir() + "/model/" + name;
  Fixture f;
  SafetensorsHeader h;
  for (auto& [k, t] : read_safetensors(dir + "/io.safetensors", &h)) f.io[k] = t;
  f.config = config_from_metadata(h.metadata);
  for (auto& [k, t] : read_safetensors(dir + "/weights.safetensors")) f.weights[k] = t.contiguous();
  return f;
}

void load_weights(TftModel& m, const std::map<std::string, at::Tensor>& w) {
  std::map<std::string, NamedTensor> state;
  for (const auto& [k, t] : w) state[k] = NamedTensor{t.sizes().vec(), t.data_ptr<float>()};
  m.parameters().load(state);
}

ModelInput fixture_input(const Fixture& f) {
  ModelInput in;
  in.x = f.io.at("x");
  if (f.io.count("entity")) in.entity = f.io.at("entity").to(at::kLong);
  if (f.io.count("context")) in.context = f.io.at("context");
  if (f.io.count("context_entity")) in.context_entity = f.io.at("context_entity").to(at::kLong);
  return in;
}

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST(model_matches_pytorch_reference) {
  for (const char* name : kCases) {
    const Fixture f = load_fixture(name);
    TftModel m(f.config);
    load_weights(m, f.weights);
    BatchOptions opt;
    opt.forward.vsn_weights = true;
    opt.forward.attention = true;
    const ForwardOutput last = m.predict_batch(fixture_input(f), opt);
    opt.forward.all_steps = true;
    const ForwardOutput all = m.predict_batch(fixture_input(f), opt);
    double worst = 0;
    for (auto [out, prefix] : {std::pair{&last, "last_"}, std::pair{&all, "all_"}}) {
      worst = std::max(worst, max_abs(out->position, f.io.at(std::string(prefix) + "position")));
      worst = std::max(worst, max_abs(out->mu, f.io.at(std::string(prefix) + "mu")));
      worst = std::max(worst, max_abs(out->sigma, f.io.at(std::string(prefix) + "sigma")));
      worst = std::max(worst, max_abs(out->vsn_weights, f.io.at(std::string(prefix) + "vsn_weights")));
      worst = std::max(worst, max_abs(out->attention, f.io.at(std::string(prefix) + "attention")));
    }
    // And against the float64 forward of the same weights: native float32 must be as close to the exact
    // result as float32 PyTorch is.
    double truth = 0;
    for (const char* k : {"position", "mu", "sigma", "vsn_weights", "attention"}) {
      at::Tensor out = k == std::string("position")      ? all.position
                       : k == std::string("mu")          ? all.mu
                       : k == std::string("sigma")       ? all.sigma
                       : k == std::string("vsn_weights") ? all.vsn_weights
                                                         : all.attention;
      truth = std::max(truth, max_abs(out, f.io.at(std::string("truth_") + k)));
    }
    const double pytorch_error = f.io.at("pytorch_error").item<double>();
    std::printf("          %-15s max |native - pytorch| = %.2e   vs float64: native %.2e, pytorch %.2e\n", name, worst,
                truth, pytorch_error);
    REQUIRE(worst <= 1e-5);
    REQUIRE(truth <= std::max(1e-5, 2 * pytorch_error));
  }
}

TEST(chunking_does_not_change_results) {
  const Fixture f = load_fixture("xtrend");
  TftModel m(f.config);
  load_weights(m, f.weights);
  BatchOptions whole, chunked;
  chunked.chunk_size = 2;
  const ForwardOutput a = m.predict_batch(fixture_input(f), whole);
  const ForwardOutput b = m.predict_batch(fixture_input(f), chunked);
  REQUIRE(max_abs(a.position, b.position) <= 1e-6);
  REQUIRE(max_abs(a.sigma, b.sigma) <= 1e-6);
}

TEST(rolling_equals_batch) {
  for (int64_t n_entities : {0, 3}) {
    TftConfig c;
    c.n_features = 7;
    c.d_hidden = 16;
    c.n_heads = 4;
    c.lstm_layers = 2;
    c.seq_len = 9;
    c.n_entities = n_entities;
    c.seed = 5;
    TftModel m(c);
    const int64_t A = 3, D = 40, T = c.seq_len;
    at::Tensor panel = at::randn({A, D, c.n_features}, at::TensorOptions().dtype(at::kFloat));
    at::Tensor ids = n_entities ? at::tensor({2, 0, 1}, at::kLong) : at::Tensor();
    RollingOptions ro;
    ro.chunk_windows = 7;  // several chunks per asset
    const RollingOutput r = m.predict_rolling(panel, ids, ro);
    // the same windows, one by one through predict_batch
    const int64_t W = D - T + 1;
    at::Tensor windows = at::empty({A * W, T, c.n_features});
    at::Tensor wid = at::empty({A * W}, at::kLong);
    for (int64_t a = 0; a < A; ++a)
      for (int64_t w = 0; w < W; ++w) {
        windows[a * W + w].copy_(panel[a].narrow(0, w, T));
        if (n_entities) wid[a * W + w] = ids[a];
      }
    ModelInput in;
    in.x = windows;
    if (n_entities) in.entity = wid;
    const ForwardOutput b = m.predict_batch(in, BatchOptions{});
    const at::Tensor rp = r.position.narrow(1, T - 1, W).reshape({A * W});
    const at::Tensor rs = r.sigma.narrow(1, T - 1, W).reshape({A * W});
    REQUIRE(max_abs(rp, b.position) <= 1e-6);
    REQUIRE(max_abs(rs, b.sigma) <= 1e-6);
    REQUIRE(at::isnan(r.position.narrow(1, 0, T - 1)).all().item<bool>());
  }
}

TEST(rolling_skips_windows_with_missing_data) {
  TftConfig c;
  c.n_features = 4;
  c.d_hidden = 8;
  c.n_heads = 2;
  c.seq_len = 5;
  TftModel m(c);
  at::Tensor panel = at::randn({1, 20, 4});
  panel[0][10][2] = NAN;
  RollingOptions ro;
  ro.skip_non_finite = true;
  const RollingOutput r = m.predict_rolling(panel, at::Tensor(), ro);
  for (int64_t d = 0; d < 20; ++d) {
    const bool window_has_nan = d >= 10 && d <= 14;
    const bool full = d >= 4;
    REQUIRE(std::isnan(r.position[0][d].item<float>()) == (!full || window_has_nan));
  }
  RollingOptions strict;
  REQUIRE_THROWS_CODE(m.predict_rolling(panel, at::Tensor(), strict), ErrorCode::NonFinite);
}

TEST(state_dict_round_trip_through_safetensors) {
  const Fixture f = load_fixture("entities");
  TftModel a(f.config);
  load_weights(a, f.weights);
  const std::string path = (std::filesystem::temp_directory_path() / "tft_round_trip.safetensors").string();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (size_t i = 0; i < a.parameters().specs().size(); ++i)
    tensors.emplace_back(a.parameters().specs()[i].name, a.parameters().tensors()[i]);
  write_safetensors(path, tensors, {{"format", "pt"}});
  TftConfig other = f.config;
  other.seed = 999;  // different initial weights, overwritten by the load
  TftModel b(other);
  std::map<std::string, at::Tensor> loaded;
  for (auto& [k, t] : read_safetensors(path)) loaded[k] = t.contiguous();
  load_weights(b, loaded);
  const ForwardOutput oa = a.predict_batch(fixture_input(f), BatchOptions{});
  const ForwardOutput ob = b.predict_batch(fixture_input(f), BatchOptions{});
  REQUIRE(at::equal(oa.position, ob.position));
  REQUIRE(at::equal(oa.mu, ob.mu));
  std::remove(path.c_str());
}

TEST(determinism) {
  TftConfig c;
  c.n_features = 10;
  c.d_hidden = 32;
  c.n_heads = 4;
  c.seq_len = 30;
  c.seed = 42;
  TftModel a(c), b(c);
  for (size_t i = 0; i < a.parameters().tensors().size(); ++i)
    REQUIRE(at::equal(a.parameters().tensors()[i], b.parameters().tensors()[i]));
  c.seed = 43;
  TftModel other(c);
  REQUIRE(!at::equal(a.parameters().tensors()[4], other.parameters().tensors()[4]));  // a weight, not a zero bias
  ModelInput in;
  in.x = at::randn({33, 30, 10});
  const ForwardOutput r1 = a.predict_batch(in, BatchOptions{});
  const ForwardOutput r2 = a.predict_batch(in, BatchOptions{});
  REQUIRE(at::equal(r1.position, r2.position));
  const int threads = tft::num_threads();
  tft::set_num_threads(1);
  const ForwardOutput r3 = a.predict_batch(in, BatchOptions{});
  tft::set_num_threads(threads);
  std::printf("          1 vs %d threads: max |diff| = %.2e\n", threads, max_abs(r1.position, r3.position));
  REQUIRE(max_abs(r1.position, r3.position) <= 1e-6);
  // The inference kernels are row-deterministic on every path: no product depends on how work is split.
  REQUIRE(at::equal(r1.position, r3.position));
}

TEST(bad_input_is_typed) {
  TftConfig c;
  c.n_features = 4;
  c.d_hidden = 8;
  c.n_heads = 2;
  c.seq_len = 6;
  c.n_entities = 2;
  TftModel m(c);
  ModelInput in;
  in.x = at::randn({2, 6, 5});
  in.entity = at::tensor({0, 1}, at::kLong);
  REQUIRE_THROWS_CODE(m.predict_batch(in, BatchOptions{}), ErrorCode::Shape);
  in.x = at::randn({2, 0, 4});
  REQUIRE_THROWS_CODE(m.predict_batch(in, BatchOptions{}), ErrorCode::Shape);
  in.x = at::randn({2, 6, 4});
  in.x[1][3][2] = NAN;
  REQUIRE_THROWS_CODE(m.predict_batch(in, BatchOptions{}), ErrorCode::NonFinite);
  BatchOptions zero;
  zero.nan_policy = NanPolicy::Zero;
  const ForwardOutput ok = m.predict_batch(in, zero);
  REQUIRE(at::isfinite(ok.position).all().item<bool>());
  in.entity = at::tensor({0, 2}, at::kLong);
  REQUIRE_THROWS_CODE(m.predict_batch(in, zero), ErrorCode::OutOfRange);
  in.entity = at::Tensor();
  REQUIRE_THROWS_CODE(m.predict_batch(in, zero), ErrorCode::InvalidArgument);
  // B = 0 gives empty outputs
  ModelInput empty;
  empty.x = at::randn({0, 6, 4});
  empty.entity = at::empty({0}, at::kLong);
  REQUIRE(m.predict_batch(empty, BatchOptions{}).position.numel() == 0);
  // state dicts
  std::map<std::string, NamedTensor> state;
  std::vector<at::Tensor> keep;
  for (size_t i = 0; i < m.parameters().specs().size(); ++i) {
    keep.push_back(m.parameters().tensors()[i].contiguous());
    state[m.parameters().specs()[i].name] = NamedTensor{keep.back().sizes().vec(), keep.back().data_ptr<float>()};
  }
  auto missing = state;
  missing.erase("mu_head.bias");
  REQUIRE_THROWS_CODE(m.parameters().load(missing), ErrorCode::StateDict);
  auto extra = state;
  extra["bogus.weight"] = state["mu_head.bias"];
  REQUIRE_THROWS_CODE(m.parameters().load(extra), ErrorCode::StateDict);
  auto bad_shape = state;
  bad_shape["mu_head.weight"].shape = {8, 1};
  REQUIRE_THROWS_CODE(m.parameters().load(bad_shape), ErrorCode::StateDict);
  TftConfig bad = c;
  bad.n_heads = 3;
  REQUIRE_THROWS_CODE(TftModel{bad}, ErrorCode::InvalidArgument);
}

TEST(safetensors_reader_rejects_hostile_files) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  auto write = [&](const std::string& name, const std::string& bytes) {
    const std::string p = dir + "/" + name;
    FILE* fp = std::fopen(p.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), fp);
    std::fclose(fp);
    return p;
  };
  auto with_header = [](const std::string& json, const std::string& data) {
    std::string s(8, '\0');
    uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return s + json + data;
  };
  const std::string four(4, '\0');
  REQUIRE_THROWS_CODE(read_safetensors_header(write("st_short", "abc")), ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(
      read_safetensors_header(write("st_huge", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}")),
      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(read_safetensors_header(write("st_json", with_header("{\"a\":", four))), ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(
      read_safetensors_header(
          write("st_offsets", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", four))),
      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(
      read_safetensors_header(
          write("st_shape", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,4]}}", four))),
      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(
      read_safetensors_header(
          write("st_dtype", with_header("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", four))),
      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(
      read_safetensors_header(write(
          "st_overflow",
          with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", four))),
      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(read_safetensors_header(write(
                          "st_overlap", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                                    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                                    four))),
                      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(
      read_safetensors_header(write(
          "st_trailing", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four + four))),
      ErrorCode::Corrupt);
  REQUIRE_THROWS_CODE(read_safetensors_header(
                          write("st_dup", with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                                                      four + four))),
                      ErrorCode::Corrupt);
  const std::string tensor_a = "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
  for (const char* esc : {"\\u00zz", "\\u12", "\\ud83d", "\\ude00", "\\ud83d\\u0041"}) {
    const std::string json = std::string("{\"__metadata__\":{\"k\":\"") + esc + "\"}," + tensor_a + "}";
    REQUIRE_THROWS_CODE(read_safetensors_header(write("st_escape", with_header(json, four))), ErrorCode::Corrupt);
  }
  const SafetensorsHeader esc = read_safetensors_header(
      write("st_escape_ok",
            with_header("{\"__metadata__\":{\"k\":\"\\u00e9\\ud83d\\ude00\\u0041\"}," + tensor_a + "}", four)));
  REQUIRE(esc.metadata.at("k") ==
          "\xc3\xa9\xf0\x9f\x98\x80"
          "A");
  REQUIRE_THROWS_CODE(read_safetensors_header(dir + "/does-not-exist.safetensors"), ErrorCode::Io);
  const SafetensorsHeader ok = read_safetensors_header(write(
      "st_ok",
      with_header("{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                  four)));
  REQUIRE(ok.tensors.size() == 1 && ok.metadata.at("k") == "v");
}

// Every instruction-set path this CPU supports (scalar, avx2, avx512) against the scalar one, on a hidden
// size that is a multiple of every vector width and one that leaves masked tails (d = 20); each path's
// rolling prediction against its own predict_batch; and a path's results do not depend on the thread count.
TEST(every_kernel_path_agrees) {
  const cpu::Isa before = cpu::active_isa();
  for (int64_t d : {int64_t{16}, int64_t{20}}) {
    TftConfig c;
    c.n_features = 11;
    c.d_hidden = d;
    c.n_heads = 4;
    c.lstm_layers = 2;
    c.seq_len = 12;
    c.n_entities = 3;
    c.seed = 9;
    TftModel m(c);
    const int64_t A = 3, D = 30, T = c.seq_len, W = D - T + 1;
    const at::Tensor panel = at::randn({A, D, c.n_features});
    const at::Tensor ids = at::tensor({1, 2, 0}, at::kLong);
    at::Tensor windows = at::empty({A * W, T, c.n_features});
    at::Tensor wid = at::empty({A * W}, at::kLong);
    for (int64_t a = 0; a < A; ++a)
      for (int64_t w = 0; w < W; ++w) {
        windows[a * W + w].copy_(panel[a].narrow(0, w, T));
        wid[a * W + w] = ids[a];
      }
    ModelInput in;
    in.x = windows;
    in.entity = wid;
    at::Tensor scalar_pos;
    for (cpu::Isa isa : cpu::supported_isas()) {
      cpu::set_active_isa(isa);
      const ForwardOutput b = m.predict_batch(in, BatchOptions{});
      const RollingOutput r = m.predict_rolling(panel, ids, RollingOptions{});
      const at::Tensor rp = r.position.narrow(1, T - 1, W).reshape({A * W});
      const int threads = tft::num_threads();
      tft::set_num_threads(1);
      const ForwardOutput b1 = m.predict_batch(in, BatchOptions{});
      tft::set_num_threads(threads);
      if (!scalar_pos.defined()) scalar_pos = b.position;
      const double vs_scalar = max_abs(b.position, scalar_pos), roll = max_abs(rp, b.position);
      std::printf("          d=%lld %-7s vs scalar %.2e, rolling vs batch %.2e, 1 vs %d threads %s\n",
                  static_cast<long long>(d), cpu::isa_name(isa), vs_scalar, roll, threads,
                  at::equal(b.position, b1.position) ? "identical" : "DIFFERENT");
      REQUIRE(vs_scalar <= 1e-5);
      REQUIRE(roll <= 1e-6);
      REQUIRE(at::equal(b.position, b1.position));
    }
  }
  cpu::set_active_isa(before);
}

// Every input libFuzzer ever found or was seeded with (native/fuzz/, scripts/fuzz-native.sh) replays through
// the header parser: a parsed header or a tft::Error, nothing else. Same framing as the fuzz target.
TEST(safetensors_fuzz_inputs_replay) {
  namespace fs = std::filesystem;
  int replayed = 0;
  for (const char* dir : {"native/fuzz/corpus", "native/fuzz/regressions"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::ifstream f(e.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (bytes.size() < 8) continue;
      uint64_t extra = 0;
      std::memcpy(&extra, bytes.data(), 8);
      const std::string text = bytes.substr(8);
      try {
        parse_safetensors_header(text, 8 + text.size() + (extra % (uint64_t{1} << 32)), e.path().string());
      } catch (const tft::Error&) {
      }
      ++replayed;
    }
  }
  std::printf("          %d fuzz inputs replayed\n", replayed);
  REQUIRE(replayed >= 4);
}
