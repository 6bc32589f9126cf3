// The environment variables the core reads, all read here: one table says what each means and its default,
// `capabilities().environment` publishes it, and the README's table is checked against it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tft::environment {

struct Variable {
  const char* name;
  const char* fallback;  // the behaviour when unset, in words
  const char* meaning;
};

// Every variable the core reads.
const std::vector<Variable>& variables();

// The variable's text when set and non-empty. Only listed names may be read: an unlisted one is a bug
// (it would be undocumented), reported as an Internal error.
std::optional<std::string> text(const char* name);

// A whole number of at least `min` from the variable, or `fallback` when unset, empty or not such a number.
// Lenient on purpose: a tuning knob set badly must not stop a process that would run fine without it.
int64_t integer_at_least(const char* name, int64_t min, int64_t fallback);

}  // namespace tft::environment
