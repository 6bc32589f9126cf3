// Which vector instructions the kernels may use, decided once per process at run time, so one binary serves
// every x86-64 CPU. TFT_DISABLE_AVX512=1 forces the portable kernels (the test suite runs them that way
// too, since the development machines have AVX-512 and would otherwise never execute them).
#pragma once

#include <cstdlib>
#include <cstring>

namespace tft::cpu {

inline bool avx512_disabled() {
  const char* v = std::getenv("TFT_DISABLE_AVX512");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

// AVX-512 F and DQ: the model's inference kernels.
inline bool has_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return !avx512_disabled() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  }();
  return yes;
}

// AVX-512 F, BW, DQ and VPOPCNTDQ: the rank kernels' bit counting.
inline bool has_avx512_popcount() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return has_avx512() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vpopcntdq");
  }();
  return yes;
}

}  // namespace tft::cpu
