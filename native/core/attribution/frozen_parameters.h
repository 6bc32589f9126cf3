// Attribution wants gradients with respect to the inputs only: the model's parameters stop requiring
// gradients for the duration, so autograd neither computes nor stores anything for them.
#pragma once

#include "core/model/parameters.h"

namespace tft::attribution {

// A trainer on the same model turns them back on for its own steps.
class FrozenParameters {
 public:
  explicit FrozenParameters(model::ParameterStore& p) : p_(p) {
    was_ = !p.tensors().empty() && p.tensors().front().requires_grad();
    if (was_) p_.set_requires_grad(false);
  }
  ~FrozenParameters() {
    if (was_) p_.set_requires_grad(true);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  model::ParameterStore& p_;
  bool was_ = false;
};

}  // namespace tft::attribution
