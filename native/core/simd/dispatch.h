// Picks, for the active instruction set (core/cpu_isa.h), the Highway-compiled variant of a kernel function
// defined inside HWY_NAMESPACE of the current file. Use it in the file's HWY_ONCE section, in the namespace
// that encloses HWY_NAMESPACE. Evaluates to nullptr on the scalar path, where the caller runs its plain C++
// form.
#pragma once

#include "core/cpu_isa.h"
#include "hwy/highway.h"

#if HWY_ARCH_X86
#if (HWY_TARGETS & HWY_AVX3_DL)
#define TFT_SIMD_AVX512_VARIANT(FN) (::tft::cpu::has_avx512_dl() ? &N_AVX3_DL::FN : &N_AVX3::FN)
#else
#define TFT_SIMD_AVX512_VARIANT(FN) (&N_AVX3::FN)
#endif
#define TFT_SIMD_PICK(FN)                   \
  ([]() -> decltype(&N_AVX2::FN) {          \
    switch (::tft::cpu::active_isa()) {     \
      case ::tft::cpu::Isa::Avx2:           \
        return &N_AVX2::FN;                 \
      case ::tft::cpu::Isa::Avx512:         \
        return TFT_SIMD_AVX512_VARIANT(FN); \
      default:                              \
        return nullptr;                     \
    }                                       \
  }())
#else
#define TFT_SIMD_PICK(FN)                                                                          \
  ([]() -> decltype(&HWY_STATIC_DISPATCH(FN)) {                                                    \
    return ::tft::cpu::active_isa() == ::tft::cpu::Isa::Neon ? &HWY_STATIC_DISPATCH(FN) : nullptr; \
  }())
#endif
