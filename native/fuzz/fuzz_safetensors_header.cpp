// libFuzzer target for the safetensors header parser (scripts/fuzz-native.sh builds and runs it). Input:
// 8 bytes giving the size of the data section claimed to follow, then the header's JSON text. Every input
// must end in a parsed header or a tft::Error; anything else (another exception, a sanitizer report, a
// hang) is a finding, and its input goes to native/fuzz/regressions/ where the C++ tests replay it.
#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t extra = 0;
  std::memcpy(&extra, data, 8);
  const std::string text(reinterpret_cast<const char*>(data + 8), size - 8);
  try {
    tft::model::parse_safetensors_header(text, 8 + text.size() + (extra % (uint64_t{1} << 32)), "fuzz-input");
  } catch (const tft::Error&) {
  }
  return 0;
}
