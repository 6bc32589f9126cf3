// A minimal test harness: the C++ tests must build anywhere CMake and libtorch exist (a GPU box with
// nothing else installed), so they depend on no test framework.
#pragma once

#include <cmath>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace tft::test {

struct Case {
  std::string name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

struct Failure {
  std::string what;
};

// Thrown by a test that cannot run here (e.g. no GPU); reported, not counted as passed.
struct Skip {
  std::string why;
};

}  // namespace tft::test

#define TFT_CAT2(a, b) a##b
#define TFT_CAT(a, b) TFT_CAT2(a, b)
#define TEST(name)                                                                        \
  static void TFT_CAT(test_fn_, name)();                                                  \
  static ::tft::test::Registrar TFT_CAT(test_reg_, name)(#name, TFT_CAT(test_fn_, name)); \
  static void TFT_CAT(test_fn_, name)()

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::ostringstream os_;                                              \
      os_ << __FILE__ << ":" << __LINE__ << ": REQUIRE(" #cond ") failed"; \
      throw ::tft::test::Failure{os_.str()};                               \
    }                                                                      \
  } while (0)

#define REQUIRE_NEAR(a, b, tol)                                                                                       \
  do {                                                                                                                \
    const double a_ = (a), b_ = (b);                                                                                  \
    const bool ok_ = (std::isnan(a_) && std::isnan(b_)) || std::fabs(a_ - b_) <= (tol);                               \
    if (!ok_) {                                                                                                       \
      std::ostringstream os_;                                                                                         \
      os_.precision(17);                                                                                              \
      os_ << __FILE__ << ":" << __LINE__ << ": " #a " = " << a_ << " vs " #b " = " << b_ << " (tol " << (tol) << ")"; \
      throw ::tft::test::Failure{os_.str()};                                                                          \
    }                                                                                                                 \
  } while (0)

#define REQUIRE_THROWS_CODE(expr, expected_code)                                                           \
  do {                                                                                                     \
    bool thrown_ = false;                                                                                  \
    try {                                                                                                  \
      (void)(expr);                                                                                        \
    } catch (const ::tft::Error& e_) {                                                                     \
      thrown_ = true;                                                                                      \
      if (e_.code() != (expected_code)) {                                                                  \
        std::ostringstream os_;                                                                            \
        os_ << __FILE__ << ":" << __LINE__ << ": wrong code " << ::tft::error_code_name(e_.code()) << ": " \
            << e_.what();                                                                                  \
        throw ::tft::test::Failure{os_.str()};                                                             \
      }                                                                                                    \
    }                                                                                                      \
    if (!thrown_) {                                                                                        \
      std::ostringstream os_;                                                                              \
      os_ << __FILE__ << ":" << __LINE__ << ": " #expr " did not throw";                                   \
      throw ::tft::test::Failure{os_.str()};                                                               \
    }                                                                                                      \
  } while (0)

#define SKIP(why) \
  throw ::tft::test::Skip { why }
