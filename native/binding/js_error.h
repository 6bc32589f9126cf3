// Turning core failures into the façade's typed JS errors. The façade hands us its error factory once per
// environment (init), so native code throws the same classes users catch, with a stable `code`.
#pragma once

#include <napi.h>

#include <exception>
#include <string>

#include "core/error.h"

namespace tft::binding {

// A failure captured off the JS thread, to be raised on it later.
struct CapturedError {
  std::string code;
  std::string message;
  std::string argument;
  bool set = false;
};

CapturedError capture_current_exception();  // call inside catch (...)
Napi::Value make_error(Napi::Env env, const CapturedError& e);
Napi::Value make_error(Napi::Env env, ErrorCode code, const std::string& message, const std::string& argument = {});
[[noreturn]] void throw_error(Napi::Env env, const CapturedError& e);
[[noreturn]] void throw_error(Napi::Env env, ErrorCode code, const std::string& message,
                              const std::string& argument = {});

void set_error_factory(Napi::Env env, Napi::Function factory);

// Runs body; any C++ exception becomes a typed JS exception. Every exported function goes through this, so
// nothing native can escape as an abort.
template <class F>
Napi::Value guarded(Napi::Env env, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw_error(env, capture_current_exception());
  }
}

}  // namespace tft::binding
