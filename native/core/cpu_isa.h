// Which vector instruction set the kernels run on, chosen once per process at run time so one binary serves
// every CPU of its architecture, and selectable so tests and benchmarks can run every path a machine has.
//
//   scalar   plain C++ (correct everywhere; the reference the vector paths are tested against)
//   avx2     x86-64 AVX2 + FMA (Highway's AVX2 target)
//   avx512   x86-64 AVX-512 F/VL/DQ/BW (Highway's AVX3 target; AVX3_DL, with VPOPCNTQ, where the CPU has it)
//   neon     AArch64 Advanced SIMD (Highway's static target on ARM builds)
//
// The default is the best path the CPU supports. TFT_CPU_ISA=scalar|avx2|avx512|neon (read once, at the
// first use) or set_active_isa() force one; forcing a path the CPU cannot run is an InvalidArgument error
// that names the paths it can.
#pragma once

#include <string>
#include <vector>

namespace tft::cpu {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isa_name(Isa isa);

// Every path this CPU can run, best last (always starts with Scalar).
const std::vector<Isa>& supported_isas();

// The path the kernels use now. The first call reads TFT_CPU_ISA and throws tft::Error if it names an
// unknown or unsupported path (the addon calls init_isa() at load so that error surfaces there).
Isa active_isa();
void init_isa();

// Parses a name (as TFT_CPU_ISA takes it; "auto" = the best supported) and checks it against the CPU.
Isa parse_isa(const std::string& name, const char* argument);
void set_active_isa(Isa isa);

// AVX-512 with VPOPCNTDQ and the rest of Highway's AVX3_DL group (Ice Lake, Zen 4 and later): the avx512
// path then counts bits with VPOPCNTQ.
bool has_avx512_dl();

}  // namespace tft::cpu
