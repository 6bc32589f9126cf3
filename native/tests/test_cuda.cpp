// The CUDA path of the rank kernels. Skips (and says why) on machines without a usable GPU; on a CUDA
// machine it proves the GPU matrix equals the CPU one exactly.
#include <algorithm>

#include "core/cuda_api.h"
#include "core/rank/rank_stats.h"
#include "harness.h"
#include "rank_reference.h"

using namespace tft;
using namespace tft::test;

TEST(cuda_kendall_matrix_equals_cpu) {
  std::string why;
  if (cuda::device_count(&why) == 0) SKIP(why);
  for (auto [m, n, levels, nan_p] :
       {std::tuple{40, 300, 0, 0.0}, {33, 129, 4, 0.1}, {3, 2, 0, 0.0}, {64, 1000, 50, 0.02}}) {
    const auto x = random_rankings(m, n, levels, nan_p, static_cast<uint64_t>(m * 1000 + n));
    const auto gpu = rank::matrix(x.data(), m, n, rank::Statistic::KendallTauB, 0, rank::Device::Cuda);
    const auto cpu = rank::matrix(x.data(), m, n, rank::Statistic::KendallTauB, 0, rank::Device::Cpu);
    for (size_t i = 0; i < cpu.size(); ++i) REQUIRE_NEAR(gpu[i], cpu[i], 1e-13);
  }
}

TEST(cuda_request_without_device_is_typed) {
  std::string why;
  if (cuda::device_count(&why) > 0) SKIP("a CUDA device is present");
  const std::vector<double> x{1, 2, 3, 3, 2, 1};
  REQUIRE_THROWS_CODE(rank::matrix(x.data(), 2, 3, rank::Statistic::KendallTauB, 0, rank::Device::Cuda),
                      ErrorCode::CudaUnavailable);
}

// The model on a CUDA libtorch: the same weights give the same outputs on the GPU as on the CPU, and a
// training epoch runs there. Skips (saying why) where libtorch has no CUDA or no device is visible.
#include <torch/cuda.h>

#include "core/model/tft_model.h"
#include "core/train/trainer.h"

TEST(cuda_model_matches_cpu_and_trains) {
#if !defined(TFT_TORCH_CUDA)
  SKIP("this libtorch was built without CUDA (build against a CUDA libtorch: LIBTORCH or LIBTORCH_USE_PYTORCH=1)");
#else
  if (!torch::cuda::is_available()) SKIP("libtorch has CUDA but no device is visible");
  model::TftConfig c;
  c.n_features = 12;
  c.d_hidden = 32;
  c.n_heads = 4;
  c.seq_len = 30;
  c.n_entities = 3;
  c.seed = 5;
  model::TftModel cpu(c), gpu(c, at::Device(at::kCUDA, 0));
  model::ModelInput in;
  in.x = at::randn({16, 30, 12});
  in.entity = at::randint(0, 3, {16}, at::kLong);
  model::BatchOptions o;
  o.forward.vsn_weights = true;
  const auto a = cpu.predict_batch(in, o), b = gpu.predict_batch(in, o);
  REQUIRE((a.position - b.position).abs().max().item<double>() <= 1e-4);
  REQUIRE((a.vsn_weights - b.vsn_weights).abs().max().item<double>() <= 1e-4);
  const at::Tensor panel = at::randn({2, 80, 12});
  const auto ra = cpu.predict_rolling(panel, at::tensor({0, 2}, at::kLong), model::RollingOptions{});
  const auto rb = gpu.predict_rolling(panel, at::tensor({0, 2}, at::kLong), model::RollingOptions{});
  REQUIRE(at::allclose(at::nan_to_num(ra.position, 0), at::nan_to_num(rb.position, 0), 1e-4, 1e-4));
  auto shared = std::make_shared<model::TftModel>(c, at::Device(at::kCUDA, 0));
  train::TrainData d;
  d.features = panel;
  d.target = 0.01 * at::randn({2, 80});
  d.entity = at::tensor({0, 2}, at::kLong);
  train::Trainer t(shared, d, train::TrainOptions{});
  const auto st = t.train_epoch(t.valid_windows(0, 79), 1, nullptr, nullptr);
  REQUIRE(std::isfinite(st.loss) && st.steps > 0);
#endif
}

#include "core/attribution/attribution.h"

// Attribution on the GPU: the same attributions as on the CPU (input gradients through cuDNN's LSTM, which
// refuses a backward pass in eval mode unless the core runs it in train mode without dropout).
TEST(cuda_attribution_matches_cpu) {
#if !defined(TFT_TORCH_CUDA)
  SKIP("this libtorch was built without CUDA (build against a CUDA libtorch: LIBTORCH or LIBTORCH_USE_PYTORCH=1)");
#else
  if (!torch::cuda::is_available()) SKIP("libtorch has CUDA but no device is visible");
  model::TftConfig c;
  c.n_features = 6;
  c.d_hidden = 16;
  c.n_heads = 2;
  c.seq_len = 12;
  c.n_entities = 3;
  c.seed = 9;
  model::TftModel cpu(c), gpu(c, at::Device(at::kCUDA, 0));
  model::ModelInput in;
  in.x = at::randn({4, 12, 6});
  in.entity = at::randint(0, 3, {4}, at::kLong);
  auto close = [](const at::Tensor& a, const at::Tensor& b) {
    const double scale = std::max(1.0, a.abs().max().item<double>());
    return (a - b.cpu()).abs().max().item<double>() <= 1e-4 * scale;
  };
  attribution::GradientRequest ig;
  ig.n_steps = 16;
  REQUIRE(close(attribution::gradient_attribution(cpu, in, ig).attributions,
                attribution::gradient_attribution(gpu, in, ig).attributions));
  attribution::GradientRequest shap;
  shap.method = attribution::Method::GradientShap;
  shap.baselines = at::randn({5, 12, 6});
  shap.shap_stdev = 0.1;
  shap.seed = 3;
  shap.tunnel.type = attribution::Smoothing::SmoothGrad;
  shap.tunnel.samples = 2;
  REQUIRE(close(attribution::gradient_attribution(cpu, in, shap).attributions,
                attribution::gradient_attribution(gpu, in, shap).attributions));
  attribution::PerturbationRequest perm;
  perm.permutation = true;
  perm.seed = 4;
  REQUIRE(close(attribution::perturbation_attribution(cpu, in, perm).attributions,
                attribution::perturbation_attribution(gpu, in, perm).attributions));
  // DeepLift runs the LSTM as cells (no cuDNN), with the same rules on both devices.
  attribution::DeepLiftRequest dl;
  dl.shap = true;
  dl.baselines = at::randn({3, 12, 6});
  const attribution::Result dl_gpu = attribution::deeplift_attribution(gpu, in, dl);
  REQUIRE(close(attribution::deeplift_attribution(cpu, in, dl).attributions, dl_gpu.attributions));
  REQUIRE(dl_gpu.delta.abs().max().item<double>() < 1e-4);
#endif
}
