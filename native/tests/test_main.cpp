// Runs every registered test, or those whose name contains one of the arguments. Exit code 1 if any failed.
// The kernels run on the path TFT_CPU_ISA selects (default: the CPU's best); `--isas` prints every path this
// CPU supports, one per line, so a runner can repeat the suite on each.
#include <chrono>
#include <string>
#include <vector>

#include "core/cpu_isa.h"
#include "core/runtime.h"
#include "harness.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--isas") {
    for (tft::cpu::Isa isa : tft::cpu::supported_isas()) std::cout << tft::cpu::isa_name(isa) << "\n";
    return 0;
  }
  try {
    tft::cpu::init_isa();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::cout << "kernels: " << tft::cpu::isa_name(tft::cpu::active_isa()) << "\n";
  tft::init_default_threads();
  std::vector<std::string> filters(argv + 1, argv + argc);
  auto selected = [&](const std::string& name) {
    if (filters.empty()) return true;
    for (const auto& f : filters)
      if (name.find(f) != std::string::npos) return true;
    return false;
  };
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& c : tft::test::registry()) {
    if (!selected(c.name)) continue;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      c.fn();
      ++passed;
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "  ok    " << c.name << " (" << static_cast<int>(ms) << " ms)\n";
    } catch (const tft::test::Skip& s) {
      ++skipped;
      std::cout << "  skip  " << c.name << ": " << s.why << "\n";
    } catch (const tft::test::Failure& f) {
      ++failed;
      std::cout << "  FAIL  " << c.name << ": " << f.what << "\n";
    } catch (const std::exception& e) {
      ++failed;
      std::cout << "  FAIL  " << c.name << ": unexpected exception: " << e.what() << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed ? 1 : 0;
}
