// The model benchmark without Node: predict_batch B=512, B=1 latency and rolling over 30 x 2500 at the
// reference config, on CPU or CUDA. This is how GPU machines (which have no Node) measure the model.
//
//   tft_model_bench [--device cpu|cuda] [--threads N] [--batch 512] [--assets 30] [--days 2500]
//                   [--part all|batch|latency|rolling|training] [--reps N]
// --part runs one measurement alone (for a profiler); --reps scales its repetitions. TFT_CPU_ISA selects the
// kernels' instruction set (core/cpu_isa.h); the first line says which ran.
#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_isa.h"
#include "core/model/tft_model.h"
#include "core/runtime.h"
#include "core/train/trainer.h"

using namespace tft;
using namespace tft::model;
using clk = std::chrono::steady_clock;

static double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  std::string device = "cpu";
  int threads = 0;
  int64_t B = 512, A = 30, D = 2500;
  std::string part = "all";
  int reps = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--device")
      device = argv[i + 1];
    else if (k == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (k == "--batch")
      B = std::atoll(argv[i + 1]);
    else if (k == "--assets")
      A = std::atoll(argv[i + 1]);
    else if (k == "--days")
      D = std::atoll(argv[i + 1]);
    else if (k == "--part")
      part = argv[i + 1];
    else if (k == "--reps")
      reps = std::max(1, std::atoi(argv[i + 1]));
  }
  auto want = [&](const char* p) { return part == "all" || part == p; };
  init_default_threads();
  if (threads > 0) set_num_threads(threads);
  at::Device dev = at::kCPU;
  if (device == "cuda") {
    if (!torch::cuda::is_available()) {
      std::fprintf(stderr, "CUDA requested but libtorch reports no CUDA device\n");
      return 2;
    }
    dev = at::Device(at::kCUDA, 0);
  }
  TftConfig c;
  c.n_features = 64;
  c.d_hidden = 64;
  c.n_heads = 4;
  c.lstm_layers = 1;
  c.seq_len = 63;
  c.seed = 1;
  TftModel m(c, dev);
  auto sync = [&] {
    if (dev.is_cuda()) torch::cuda::synchronize();
  };
  ModelInput in;
  in.x = at::randn({B, c.seq_len, c.n_features});
  std::vector<double> tb{0}, tl{0}, tr{0};
  if (want("batch")) {
    tb.clear();
    m.predict_batch(in, BatchOptions{});
    for (int r = 0; r < 5 * reps; ++r) {
      const auto t0 = clk::now();
      m.predict_batch(in, BatchOptions{});
      sync();
      tb.push_back(seconds_since(t0));
    }
  }
  if (want("latency")) {
    tl.clear();
    ModelInput one;
    one.x = in.x.narrow(0, 0, 1).contiguous();
    for (int r = 0; r < 20; ++r) m.predict_batch(one, BatchOptions{});
    for (int r = 0; r < 200 * reps; ++r) {
      const auto t0 = clk::now();
      m.predict_batch(one, BatchOptions{});
      sync();
      tl.push_back(seconds_since(t0));
    }
  }
  if (want("rolling")) {
    tr.clear();
    const at::Tensor panel = at::randn({A, D, c.n_features});
    m.predict_rolling(panel, at::Tensor(), RollingOptions{});
    for (int r = 0; r < 2 * reps; ++r) {
      const auto t0 = clk::now();
      m.predict_rolling(panel, at::Tensor(), RollingOptions{});
      sync();
      tr.push_back(seconds_since(t0));
    }
  }
  const double windows = static_cast<double>(A * (D - c.seq_len + 1));
  // training: batch 64 through forward, loss, backward and an Adam step
  double train_wps = 0;
  if (dev.is_cpu() && want("training")) {
    auto tm = std::make_shared<TftModel>(c, dev);
    train::TrainData td;
    td.features = at::randn({8, 400, c.n_features});
    td.target = 0.01 * at::randn({8, 400});
    train::TrainOptions to;
    to.batch_size = 64;
    train::Trainer trainer(tm, td, to);
    auto w = trainer.valid_windows(0, 399);
    w.resize(std::min<size_t>(w.size(), 64 * 8));
    trainer.train_epoch(std::vector<train::Window>(w.begin(), w.begin() + 64), 0, nullptr, nullptr);
    const auto t0 = clk::now();
    const auto st = trainer.train_epoch(w, 1, nullptr, nullptr);
    train_wps = static_cast<double>(st.windows) / seconds_since(t0);
  }
  std::printf("device %s, kernels %s, %d thread(s), sgemm %.1f GFLOP/s\n", device.c_str(),
              dev.is_cpu() ? cpu::isa_name(cpu::active_isa()) : "cuda", num_threads(),
              dev.is_cpu() ? measure_sgemm_gflops(1024, 10) : 0.0);
  if (want("batch"))
    std::printf("predict_batch B=%lld: %.1f seq/s\n", static_cast<long long>(B), static_cast<double>(B) / median(tb));
  if (want("latency")) std::printf("predict B=1 latency: %.3f ms\n", median(tl) * 1000);
  if (want("rolling"))
    std::printf("predict_rolling %lldx%lld: %.0f windows/s\n", static_cast<long long>(A), static_cast<long long>(D),
                windows / median(tr));
  if (dev.is_cpu() && want("training")) std::printf("training, batch 64: %.1f windows/s\n", train_wps);
  return 0;
}
