// The model's parameters: their names (the contract with the PyTorch reference and with checkpoints), shapes,
// initialisation, and validated loading. docs/model.md lists every one.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "core/model/config.h"

namespace tft::model {

enum class Init { Glorot, Zero, One, Normal };

struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  Init init;
};

// In a fixed, documented order (also the order of safetensors files we write).
std::vector<ParamSpec> parameter_specs(const TftConfig& c);

// A named tensor handed in by a caller (from JS, a file, a test).
struct NamedTensor {
  std::vector<int64_t> shape;
  const float* data = nullptr;  // shape's product floats, not owned
};

class ParameterStore {
 public:
  ParameterStore() = default;
  explicit ParameterStore(const TftConfig& c);

  // Seeded, deterministic initialisation: same seed, same weights, whatever the thread count.
  void initialize(uint64_t seed);

  const at::Tensor& get(const std::string& name) const;
  bool has(const std::string& name) const { return index_.count(name) > 0; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  const std::vector<at::Tensor>& tensors() const { return tensors_; }

  // Checks names, shapes and finiteness of a complete state dict before touching anything, then copies.
  // Missing, unexpected or misshapen tensors raise tft::Error(StateDict) naming them.
  void load(const std::map<std::string, NamedTensor>& state);

  void to(const at::Device& device);
  void set_requires_grad(bool on);
  int64_t numel() const;
  uint64_t version() const { return version_; }  // bumped by every change of values (loads, training steps)
  void bump_version() { ++version_; }

 private:
  std::vector<ParamSpec> specs_;
  std::vector<at::Tensor> tensors_;
  std::map<std::string, size_t> index_;
  uint64_t version_ = 0;
};

}  // namespace tft::model
