#include "core/model/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <unordered_set>

#include "core/error.h"

namespace tft::model {
namespace {

// The safetensors reference implementation caps headers at 100 MB; so do we.
constexpr uint64_t kMaxHeader = 100ull * 1000 * 1000;

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::Corrupt, path + ": not a valid safetensors file: " + what, path);
}

// A strict parser for the JSON subset safetensors headers use: objects, arrays, strings, non-negative
// integers. Anything else is a corrupt header, and so is anything RFC 8259 forbids (numbers with leading
// zeros, text that is not UTF-8, duplicate keys): a file accepted here must be one PyTorch's readers accept.

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Returns the byte
// offset of the first bad sequence, or npos.
size_t first_invalid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    size_t len;
    unsigned cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else
      return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string::npos;
}

// Refuses what is not a regular file before opening it: a FIFO or device would block the read forever.
void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(ErrorCode::Io, path + ": cannot open (" + std::strerror(errno) + ")", path);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::Io, path + ": not a regular file", path);
}
struct Json {
  enum Kind { Object, Array, String, Integer } kind = Object;
  std::vector<std::pair<std::string, Json>> object;
  std::vector<Json> array;
  std::string string;
  uint64_t integer = 0;
};

class Parser {
 public:
  Parser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Json parse_document() {
    Json j = value(0);
    ws();
    if (i_ != s_.size()) bad("trailing characters after the header object");
    return j;
  }

 private:
  [[noreturn]] void bad(const std::string& what) {
    corrupt(path_, "header JSON: " + what + " at byte " + std::to_string(i_));
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) bad("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++i_;
  }
  Json value(int depth) {
    if (depth > 8) bad("nesting too deep");
    const char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      Json j;
      j.kind = Json::String;
      j.string = str();
      return j;
    }
    if (c >= '0' && c <= '9') return integer();
    bad("unsupported value");
  }
  Json object(int depth) {
    Json j;
    j.kind = Json::Object;
    std::unordered_set<std::string> seen;
    expect('{');
    if (peek() == '}') {
      ++i_;
      return j;
    }
    for (;;) {
      std::string key = (peek() == '"') ? str() : (bad("expected a string key"), std::string());
      // Duplicate keys would let two readers see different tensors under one name.
      if (!seen.insert(key).second) bad("duplicate key '" + key + "'");
      expect(':');
      j.object.emplace_back(std::move(key), value(depth + 1));
      const char c = peek();
      ++i_;
      if (c == '}') return j;
      if (c != ',') bad("expected ',' or '}'");
    }
  }
  Json array(int depth) {
    Json j;
    j.kind = Json::Array;
    expect('[');
    if (peek() == ']') {
      ++i_;
      return j;
    }
    for (;;) {
      j.array.push_back(value(depth + 1));
      const char c = peek();
      ++i_;
      if (c == ']') return j;
      if (c != ',') bad("expected ',' or ']'");
    }
  }
  Json integer() {
    Json j;
    j.kind = Json::Integer;
    uint64_t v = 0;
    size_t digits = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const uint64_t dgt = static_cast<uint64_t>(s_[i_] - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - dgt) / 10) bad("integer overflow");
      v = v * 10 + dgt;
      ++i_;
      ++digits;
    }
    if (digits == 0) bad("expected digits");
    if (digits > 1 && s_[i_ - digits] == '0') bad("number with a leading zero");
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) bad("non-integer number");
    j.integer = v;
    return j;
  }
  // Exactly four hex digits (std::stoul would accept fewer and throw a non-typed error on none).
  unsigned hex4() {
    if (i_ + 4 > s_.size()) bad("short \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= static_cast<unsigned>(h - 'A' + 10);
      else
        bad("bad hex digit in \\u escape");
    }
    return v;
  }
  std::string str() {
    expect('"');
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) bad("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) bad("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a UTF-16 surrogate pair encodes one code point
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') bad("unpaired surrogate in \\u escape");
            i_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) bad("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            bad("unpaired surrogate in \\u escape");
          }
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          bad("bad escape");
      }
    }
    bad("unterminated string");
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

uint64_t dtype_size(const std::string& dt) {
  if (dt == "F32" || dt == "I32") return 4;
  if (dt == "F64" || dt == "I64") return 8;
  if (dt == "F16" || dt == "BF16") return 2;
  return 0;
}

at::ScalarType scalar_type(const std::string& dt) {
  if (dt == "F32") return at::kFloat;
  if (dt == "F64") return at::kDouble;
  if (dt == "F16") return at::kHalf;
  if (dt == "BF16") return at::kBFloat16;
  if (dt == "I32") return at::kInt;
  return at::kLong;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

}  // namespace

SafetensorsHeader read_safetensors_header(const std::string& path) {
  require_regular_file(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::Io, path + ": cannot open (" + std::strerror(errno) + ")", path);
  f.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(f.tellg());
  f.seekg(0);
  if (size < 8) corrupt(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  unsigned char len_bytes[8];
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n == 0 || n > kMaxHeader) corrupt(path, "header length " + std::to_string(n) + " is out of bounds");
  if (n > size - 8)
    corrupt(path, "header length " + std::to_string(n) + " exceeds the file (" + std::to_string(size) +
                      " bytes): truncated?");
  std::string text(static_cast<size_t>(n), '\0');
  f.read(text.data(), static_cast<std::streamsize>(n));
  if (!f) corrupt(path, "could not read the header");
  return parse_safetensors_header(text, size, path);
}

SafetensorsHeader parse_safetensors_header(const std::string& text, uint64_t size, const std::string& path) {
  const uint64_t n = text.size();
  if (n == 0 || n > kMaxHeader || size < 8 || n > size - 8)
    corrupt(path, "header length " + std::to_string(n) + " is out of bounds");
  const size_t bad_utf8 = first_invalid_utf8(text);
  if (bad_utf8 != std::string::npos) corrupt(path, "header is not UTF-8 (byte " + std::to_string(bad_utf8) + ")");
  const Json root = Parser(text, path).parse_document();
  if (root.kind != Json::Object) corrupt(path, "header is not a JSON object");
  SafetensorsHeader h;
  h.data_start = 8 + n;
  h.file_size = size;
  const uint64_t data_size = size - h.data_start;
  for (const auto& [name, v] : root.object) {
    if (name == "__metadata__") {
      if (v.kind != Json::Object) corrupt(path, "__metadata__ is not an object");
      for (const auto& [k, mv] : v.object) {
        if (mv.kind != Json::String) corrupt(path, "__metadata__." + k + " is not a string");
        h.metadata[k] = mv.string;
      }
      continue;
    }
    if (v.kind != Json::Object) corrupt(path, "entry '" + name + "' is not an object");
    SafetensorsEntry e;
    e.name = name;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    for (const auto& [k, fv] : v.object) {
      if (k == "dtype" && fv.kind == Json::String) {
        e.dtype = fv.string;
        has_dtype = true;
      } else if (k == "shape" && fv.kind == Json::Array) {
        for (const auto& dim : fv.array) {
          if (dim.kind != Json::Integer || dim.integer > (uint64_t{1} << 40))
            corrupt(path, "'" + name + "': bad shape");
          e.shape.push_back(static_cast<int64_t>(dim.integer));
        }
        has_shape = true;
      } else if (k == "data_offsets" && fv.kind == Json::Array && fv.array.size() == 2 &&
                 fv.array[0].kind == Json::Integer && fv.array[1].kind == Json::Integer) {
        e.begin = fv.array[0].integer;
        e.end = fv.array[1].integer;
        has_offsets = true;
      } else {
        corrupt(path, "'" + name + "': unexpected field '" + k + "'");
      }
    }
    if (!has_dtype || !has_shape || !has_offsets) corrupt(path, "'" + name + "': needs dtype, shape and data_offsets");
    const uint64_t es = dtype_size(e.dtype);
    if (es == 0) corrupt(path, "'" + name + "': unsupported dtype '" + e.dtype + "'");
    uint64_t numel = 1;
    for (int64_t dim : e.shape) {
      if (dim != 0 && numel > data_size / static_cast<uint64_t>(dim))
        corrupt(path, "'" + name + "': shape larger than the file");
      numel *= static_cast<uint64_t>(dim);
    }
    if (e.begin > e.end || e.end > data_size)
      corrupt(path, "'" + name + "': data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                        "] outside the data section (" + std::to_string(data_size) + " bytes): truncated?");
    if (e.end - e.begin != numel * es)
      corrupt(path, "'" + name + "': " + std::to_string(e.end - e.begin) + " bytes for a shape needing " +
                        std::to_string(numel * es));
    h.tensors.push_back(std::move(e));
  }
  // The data section must be covered exactly: no overlaps, no holes, no trailing bytes.
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : h.tensors) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto* a, auto* b) { return a->begin < b->begin || (a->begin == b->begin && a->end < b->end); });
  uint64_t cursor = 0;
  for (const auto* e : by_offset) {
    if (e->begin != cursor)
      corrupt(path, "tensor '" + e->name + "' overlaps another or leaves a gap in the data section");
    cursor = e->end;
  }
  if (cursor != data_size) corrupt(path, std::to_string(data_size - cursor) + " trailing bytes after the last tensor");
  return h;
}

std::vector<std::pair<std::string, at::Tensor>> read_safetensors(const std::string& path, SafetensorsHeader* out) {
  const SafetensorsHeader h = read_safetensors_header(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::Io, path + ": cannot open (" + std::strerror(errno) + ")", path);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& e : h.tensors) {
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(scalar_type(e.dtype)));
    f.seekg(static_cast<std::streamoff>(h.data_start + e.begin));
    f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    if (!f) corrupt(path, "'" + e.name + "': could not read its data (file changed while reading?)");
    if (e.dtype[0] == 'F' || e.dtype == "BF16") t = t.to(at::kFloat);
    tensors.emplace_back(e.name, t);
  }
  if (out) *out = h;
  return tensors;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool f2 = true;
    for (const auto& [k, v] : metadata) {
      header += (f2 ? "" : ",") + std::string("\"") + json_escape(k) + "\":\"" + json_escape(v) + "\"";
      f2 = false;
    }
    header += "}";
    first = false;
  }
  std::vector<at::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t0] : tensors) {
    at::Tensor t = t0.detach().to(at::kCPU).to(at::kFloat).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * 4;
    header += (first ? "" : ",") + std::string("\"") + json_escape(name) + "\":{\"dtype\":\"F32\",\"shape\":[";
    for (int64_t i = 0; i < t.dim(); ++i) header += (i ? "," : "") + std::to_string(t.size(i));
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    first = false;
    offset += bytes;
    data.push_back(t);
  }
  header += "}";
  while (header.size() % 8 != 0) header.push_back(' ');  // keeps the data section 8-byte aligned
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorCode::Io, path + ": cannot create (" + std::strerror(errno) + ")", path);
  auto write_all = [&](const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
      const ssize_t w = ::write(fd, c, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        const std::string err = std::strerror(errno);
        ::close(fd);
        throw Error(ErrorCode::Io, path + ": write failed (" + err + ")", path);
      }
      c += w;
      n -= static_cast<size_t>(w);
    }
  };
  unsigned char len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xFF);
  write_all(len, 8);
  write_all(header.data(), header.size());
  for (const auto& t : data) write_all(t.data_ptr(), static_cast<size_t>(t.numel()) * 4);
  if (::fsync(fd) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    throw Error(ErrorCode::Io, path + ": fsync failed (" + err + ")", path);
  }
  if (::close(fd) != 0) throw Error(ErrorCode::Io, path + ": close failed (" + std::strerror(errno) + ")", path);
}

}  // namespace tft::model
