#include "binding/js_error.h"

#include <c10/util/Exception.h>

#include <new>

#include "binding/instance.h"

namespace tft::binding {

CapturedError capture_current_exception() {
  CapturedError c;
  c.set = true;
  try {
    throw;
  } catch (const Error& e) {
    c.code = error_code_name(e.code());
    c.message = e.what();
    c.argument = e.argument();
  } catch (const c10::IndexError& e) {
    c.code = error_code_name(ErrorCode::OutOfRange);
    c.message = e.what_without_backtrace();
  } catch (const c10::ValueError& e) {
    c.code = error_code_name(ErrorCode::InvalidArgument);
    c.message = e.what_without_backtrace();
  } catch (const c10::TypeError& e) {
    c.code = error_code_name(ErrorCode::DType);
    c.message = e.what_without_backtrace();
  } catch (const c10::Error& e) {
    // libtorch's own checks (shape mismatches inside an op, CUDA errors): keep the message, drop the
    // C++ backtrace that would bury it.
    const std::string msg = e.what_without_backtrace();
    c.code = error_code_name(msg.find("CUDA") != std::string::npos ? ErrorCode::CudaUnavailable : ErrorCode::Internal);
    c.message = "libtorch: " + msg;
  } catch (const std::bad_alloc&) {
    c.code = error_code_name(ErrorCode::OutOfMemory);
    c.message = "out of memory (a native allocation failed); reduce the batch or chunk size";
  } catch (const std::exception& e) {
    c.code = error_code_name(ErrorCode::Internal);
    c.message = e.what();
  } catch (...) {
    c.code = error_code_name(ErrorCode::Internal);
    c.message = "unknown native exception";
  }
  return c;
}

void set_error_factory(Napi::Env env, Napi::Function factory) {
  instance(env).error_factory = Napi::Persistent(factory);
}

Napi::Value make_error(Napi::Env env, const CapturedError& e) {
  auto& inst = instance(env);
  if (!inst.error_factory.IsEmpty()) {
    Napi::Value made =
        inst.error_factory.Call({Napi::String::New(env, e.code), Napi::String::New(env, e.message),
                                 e.argument.empty() ? env.Undefined() : Napi::String::New(env, e.argument)});
    if (made.IsObject()) return made;
  }
  Napi::Error err = Napi::Error::New(env, e.message);
  err.Set("code", Napi::String::New(env, e.code));
  if (!e.argument.empty()) err.Set("argument", Napi::String::New(env, e.argument));
  return err.Value();
}

Napi::Value make_error(Napi::Env env, ErrorCode code, const std::string& message, const std::string& argument) {
  CapturedError c{error_code_name(code), message, argument, true};
  return make_error(env, c);
}

void throw_error(Napi::Env env, const CapturedError& e) { throw Napi::Error(env, make_error(env, e)); }

void throw_error(Napi::Env env, ErrorCode code, const std::string& message, const std::string& argument) {
  throw Napi::Error(env, make_error(env, code, argument.empty() ? message : argument + ": " + message, argument));
}

}  // namespace tft::binding
