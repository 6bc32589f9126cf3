#include "core/environment.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace tft::environment {

const std::vector<Variable>& variables() {
  static const std::vector<Variable> table = {
      {"TFT_CPU_ISA", "auto: the widest path the CPU supports",
       "kernel path: auto, scalar, avx2, avx512 or neon; one the CPU cannot run fails the addon load"},
      {"TFT_NUM_THREADS", "OMP_NUM_THREADS, else every hardware thread",
       "CPU threads for libtorch and OpenBLAS together (setNumThreads overrides it at run time)"},
      {"OMP_NUM_THREADS", "every hardware thread", "read when TFT_NUM_THREADS is unset"},
      {"TFT_CPU_CACHE_MB", "1024",
       "MiB of freed large CPU tensors the caching allocator keeps for reuse (0 disables it)"},
      {"TFT_RANK_MEMORY_MB", "1024",
       "MiB of bit planes a rank-correlation call holds at once; bigger inputs are tiled"},
  };
  return table;
}

namespace {
bool listed(const char* name) {
  for (const Variable& v : variables())
    if (std::strcmp(v.name, name) == 0) return true;
  return false;
}
}  // namespace

std::optional<std::string> text(const char* name) {
  if (!listed(name)) fail(ErrorCode::Internal, name, "read of an environment variable missing from the table");
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int64_t integer_at_least(const char* name, int64_t min, int64_t fallback) {
  const std::optional<std::string> v = text(name);
  if (!v) return fallback;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  if (errno != 0 || end == v->c_str() || *end != '\0' || x < min) return fallback;
  return x;
}

}  // namespace tft::environment
