// Reading and writing safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then raw data.
// No code runs on load (unlike pickle-based .pt files) and PyTorch users read it directly.
//
// The reader treats the file as hostile: header size, JSON syntax, dtypes, shapes (overflow-checked),
// offsets (in bounds, consistent with shape x dtype, contiguous and non-overlapping) are all verified before
// any tensor is materialised, and nothing is allocated from a size the file has not been checked to hold.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tft::model {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // F32, F64, F16, BF16, I64, I32
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data section
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // in file order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute file offset of the data section
  uint64_t file_size = 0;
};

// Parses and validates the header of `path` (reads only the header). Throws tft::Error(Corrupt / Io).
SafetensorsHeader read_safetensors_header(const std::string& path);

// The validation behind read_safetensors_header, on the header's JSON text and the whole file's size (the
// header length is text.size()): for callers that hold the bytes already, and the fuzz target.
SafetensorsHeader parse_safetensors_header(const std::string& text, uint64_t file_size, const std::string& path);

// Reads every tensor as float32 (F64/F16/BF16 converted), validated as above.
std::vector<std::pair<std::string, at::Tensor>> read_safetensors(const std::string& path,
                                                                 SafetensorsHeader* header_out = nullptr);

// Writes float32 tensors in the given order with optional string metadata, then fsyncs the file.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace tft::model
