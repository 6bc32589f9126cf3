// The core's only exception type. Every failure the core can diagnose carries a stable code and, where one
// argument is at fault, its name, so the binding can raise the matching typed JS error without parsing text.
#pragma once

#include <stdexcept>
#include <string>

namespace tft {

enum class ErrorCode {
  InvalidArgument,  // a value outside its documented domain (k < 1, unknown option, …)
  Shape,            // lengths/dimensions that do not agree
  DType,            // wrong element type
  NonFinite,        // NaN or ±Inf where finite values are required
  NotFound,         // a named thing (feature, tensor, file) does not exist
  OutOfRange,       // an index outside its bounds (entity id, …)
  CudaUnavailable,  // CUDA asked for but not compiled in, or no device
  StateDict,        // missing / unexpected / misshapen tensors
  Io,               // the file system refused
  Corrupt,          // a file that is not what it claims to be
  Cancelled,        // the caller asked the job to stop
  OutOfMemory,      // an allocation failed
  Busy,             // the object is in use by a running job
  Disposed,         // the object was disposed
  Internal,         // a bug or a library failure we could not classify
};

// Every code, for the binding's errorCodes() (the TS error classes are tested against it).
inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::InvalidArgument,
    ErrorCode::Shape,
    ErrorCode::DType,
    ErrorCode::NonFinite,
    ErrorCode::NotFound,
    ErrorCode::OutOfRange,
    ErrorCode::CudaUnavailable,
    ErrorCode::StateDict,
    ErrorCode::Io,
    ErrorCode::Corrupt,
    ErrorCode::Cancelled,
    ErrorCode::OutOfMemory,
    ErrorCode::Busy,
    ErrorCode::Disposed,
    ErrorCode::Internal,
};
static_assert(sizeof(kAllErrorCodes) / sizeof(kAllErrorCodes[0]) == static_cast<size_t>(ErrorCode::Internal) + 1,
              "kAllErrorCodes must list every ErrorCode");

// Stable strings that reach JS as error.code; never rename one, only add.
inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidArgument:
      return "ERR_INVALID_ARG";
    case ErrorCode::Shape:
      return "ERR_SHAPE";
    case ErrorCode::DType:
      return "ERR_DTYPE";
    case ErrorCode::NonFinite:
      return "ERR_NAN";
    case ErrorCode::NotFound:
      return "ERR_NOT_FOUND";
    case ErrorCode::OutOfRange:
      return "ERR_OUT_OF_RANGE";
    case ErrorCode::CudaUnavailable:
      return "ERR_CUDA_UNAVAILABLE";
    case ErrorCode::StateDict:
      return "ERR_STATE_DICT";
    case ErrorCode::Io:
      return "ERR_IO";
    case ErrorCode::Corrupt:
      return "ERR_CORRUPT";
    case ErrorCode::Cancelled:
      return "ERR_CANCELLED";
    case ErrorCode::OutOfMemory:
      return "ERR_OUT_OF_MEMORY";
    case ErrorCode::Busy:
      return "ERR_BUSY";
    case ErrorCode::Disposed:
      return "ERR_DISPOSED";
    case ErrorCode::Internal:
      return "ERR_NATIVE";
  }
  return "ERR_NATIVE";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string argument = {})
      : std::runtime_error(std::move(message)), code_(code), argument_(std::move(argument)) {}
  ErrorCode code() const noexcept { return code_; }
  const std::string& argument() const noexcept { return argument_; }

 private:
  ErrorCode code_;
  std::string argument_;
};

[[noreturn]] inline void fail(ErrorCode code, const std::string& argument, const std::string& message) {
  throw Error(code, argument.empty() ? message : argument + ": " + message, argument);
}

}  // namespace tft
