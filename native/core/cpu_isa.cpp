#include "core/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "core/environment.h"
#include "core/error.h"

namespace tft::cpu {
namespace {

#if defined(__x86_64__) || defined(__i386__)
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
// Highway's AVX3 target needs F, VL, DQ and BW (__builtin_cpu_supports also checks the OS saves zmm state).
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
}
bool cpu_has_avx512_dl() {
  __builtin_cpu_init();
  return cpu_has_avx512() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512bitalg") &&
         __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("vpclmulqdq") &&
         __builtin_cpu_supports("vaes") && __builtin_cpu_supports("gfni");
}
#endif

std::vector<Isa> detect() {
  std::vector<Isa> v{Isa::Scalar};
#if defined(__x86_64__) || defined(__i386__)
  if (cpu_has_avx2()) v.push_back(Isa::Avx2);
  if (cpu_has_avx512()) v.push_back(Isa::Avx512);
#elif defined(__aarch64__)
  v.push_back(Isa::Neon);  // Advanced SIMD is part of the AArch64 baseline
#endif
  return v;
}

std::string supported_list() {
  std::string s;
  for (Isa i : supported_isas()) s += (s.empty() ? "" : ", ") + std::string(isa_name(i));
  return s;
}

std::atomic<int> g_isa{-1};
std::once_flag g_env_once;

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    case Isa::Neon:
      return "neon";
  }
  return "scalar";
}

const std::vector<Isa>& supported_isas() {
  static const std::vector<Isa> v = detect();
  return v;
}

bool has_avx512_dl() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = cpu_has_avx512_dl();
  return yes;
#else
  return false;
#endif
}

Isa parse_isa(const std::string& name, const char* argument) {
  const auto& ok = supported_isas();
  if (name.empty() || name == "auto") return ok.back();
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (name != isa_name(i)) continue;
    for (Isa s : ok)
      if (s == i) return i;
    fail(ErrorCode::InvalidArgument, argument,
         "this CPU cannot run the " + name + " kernels; it supports: " + supported_list());
  }
  fail(ErrorCode::InvalidArgument, argument,
       "unknown instruction set '" + name +
           "' (expected auto, scalar, avx2, avx512 or neon; this CPU supports: " + supported_list() + ")");
}

void init_isa() {
  std::call_once(g_env_once, [] {
    const std::string env = environment::text("TFT_CPU_ISA").value_or("");
    int expected = -1;
    g_isa.compare_exchange_strong(expected, static_cast<int>(parse_isa(env, "TFT_CPU_ISA")));
  });
}

Isa active_isa() {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v < 0) {
    init_isa();
    v = g_isa.load(std::memory_order_relaxed);
  }
  return static_cast<Isa>(v);
}

void set_active_isa(Isa isa) {
  init_isa();  // a later first use must not overwrite the choice with TFT_CPU_ISA
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace tft::cpu
