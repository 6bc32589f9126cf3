// Which Highway targets the kernel files compile for. Included first by every kernel file, before
// hwy/foreach_target.h.
//
// x86-64: AVX2 (+FMA), AVX3 (AVX-512 F/VL/DQ/BW) and AVX3_DL (adds VPOPCNTQ and friends), plus Highway's
// baseline target, which it always compiles and the scalar path does not use there. SSSE3/SSE4 are left
// out: every x86-64 CPU of the last decade has AVX2, and the scalar path covers the rest. AArch64: NEON, as
// Highway's baseline. The choice among them is ours (core/cpu_isa.h), not Highway's, so the addon needs
// only Highway's headers: nothing links against libhwy.
#pragma once

#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL 1
#endif
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif
