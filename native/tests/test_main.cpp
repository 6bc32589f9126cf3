// Runs every registered test, or those whose name contains one of the arguments. Exit code 1 if any failed.
#include <chrono>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "harness.h"

int main(int argc, char** argv) {
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
