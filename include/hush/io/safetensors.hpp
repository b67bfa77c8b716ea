#pragma once
// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the raw
// little-endian data. Reading checks every field against the file before it allocates (extents
// are integers, their product cannot overflow and fits the bytes the file has, data ranges do
// not overlap, names are unique, JSON nests at most max_json_depth deep) and names the file and
// the tensor in each error; writing is atomic (io/atomic_file.hpp).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hush/core/error.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/paths.hpp"

namespace hush::io {

/// One stored array, its values converted to float (and kept exactly for integer types).
struct stored_array {
  std::string dtype;                 // "F32", "F64", "F16", "BF16", "I64", "I32", "U8"
  std::vector<std::int64_t> dims;    // empty for a scalar
  std::vector<float> values;
  std::vector<std::int64_t> integers;  // for integer dtypes only
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

/// A safetensors file as read_safetensors read and checked it: its arrays by name and its
/// `__metadata__` strings.
struct safetensors_file {
  std::filesystem::path path;
  std::map<std::string, stored_array> arrays;
  std::map<std::string, std::string> metadata;
};

namespace detail {
inline std::size_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64") return 8;
  if (d == "F32" || d == "I32") return 4;
  if (d == "F16" || d == "BF16") return 2;
  if (d == "U8") return 1;
  return 0;
}
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) bits = sign;
    else {  // subnormal: normalise
      int e = -1;
      std::uint32_t m = mant;
      do ++e, m <<= 1; while ((m & 0x400u) == 0);
      bits = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | (m & 0x3ffu) << 13;
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | mant << 13;
  else bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
/// The header's JSON nests at most this deep (a tensor entry needs 3; __metadata__ values are
/// text): deeper is refused before anything recursive walks it.
inline constexpr int max_json_depth = 16;
/// The safetensors format's own bound on the header.
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

/// A JSON value as a count: a non-negative integer, else io_error (1e30, -1, 2.5, "3").
inline std::uint64_t count_of(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  throw io_error(what + v.dump() + " is not a non-negative integer");
}

template <class T>
T load_le(const unsigned char* p) {  // hush targets little-endian hosts, as safetensors does
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace detail

/// Reads a safetensors file, every field checked against the file before use; throws io_error
/// naming the file and the tensor. Values become floats (integers are also kept exactly).
inline safetensors_file read_safetensors(const std::filesystem::path& path) {
  const auto where = path.string() + ": ";
  check_input_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(where + "cannot open");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw io_error(where + "truncated: " + std::to_string(bytes.size()) + " bytes, not a safetensors file");
  const auto header_len = detail::load_le<std::uint64_t>(bytes.data());
  if (header_len > bytes.size() - 8)
    throw io_error(where + "header length " + std::to_string(header_len) + " exceeds the file (" +
                   std::to_string(bytes.size()) + " bytes): truncated, or not a safetensors file");
  if (header_len > detail::max_header_bytes)
    throw io_error(where + "header of " + std::to_string(header_len) + " bytes, above the format's limit of " +
                   std::to_string(detail::max_header_bytes));
  nlohmann::json header;
  std::set<std::string> names;
  const auto check = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth > detail::max_json_depth)
      throw io_error(where + "header nests deeper than " + std::to_string(detail::max_json_depth) + " levels");
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second)
      throw io_error(where + "tensor '" + parsed.get<std::string>() + "' is named twice in the header");
    return true;
  };
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_len), check);
  } catch (const nlohmann::json::exception& e) {
    throw io_error(where + "header is not valid JSON (" + e.what() + ")");
  }
  if (!header.is_object()) throw io_error(where + "header is not a JSON object");
  const unsigned char* data = bytes.data() + 8 + header_len;
  const std::uint64_t data_size = bytes.size() - 8 - header_len;

  safetensors_file file{path, {}, {}};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [begin, end) of each tensor's data, by name
  std::vector<std::string> range_names;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw io_error(where + "__metadata__ is not an object");
      for (const auto& [k, v] : info.items())
        file.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    const auto what = where + "tensor '" + name + "': ";
    try {
      if (!info.is_object()) throw io_error(what + "entry is not an object");
      stored_array a;
      a.dtype = info.at("dtype").get<std::string>();
      const auto size = detail::dtype_size(a.dtype);
      if (size == 0) throw io_error(what + "dtype " + a.dtype + " is not supported");
      const auto& extents = info.at("shape");
      if (!extents.is_array() || extents.size() > 8) throw io_error(what + "shape must be a list of at most 8 extents");
      // The product, checked at each factor: it may not pass the bytes the data section has.
      std::uint64_t n = 1;
      for (const auto& e : extents) {
        const auto d = detail::count_of(e, what + "extent ");
        if (d > 0 && n > data_size / d)
          throw io_error(what + "shape " + extents.dump() + " needs more values than the file's " + std::to_string(data_size) +
                         " data bytes hold");
        n *= d;
        a.dims.push_back(static_cast<std::int64_t>(d));
      }
      const auto& offs = info.at("data_offsets");
      if (!offs.is_array() || offs.size() != 2) throw io_error(what + "data_offsets must be [begin, end]");
      const std::uint64_t offsets[2] = {detail::count_of(offs[0], what + "data offset "), detail::count_of(offs[1], what + "data offset ")};
      if (offsets[0] > offsets[1]) throw io_error(what + "data_offsets must be [begin, end] with begin <= end");
      if (offsets[1] > data_size)
        throw io_error(what + "ends at byte " + std::to_string(offsets[1]) + " of the data, which has only " +
                       std::to_string(data_size) + " bytes: the file is truncated");
      if (n > data_size / size || offsets[1] - offsets[0] != n * size)
        throw io_error(what + "its shape " + extents.dump() + " of " + a.dtype + " needs " + std::to_string(n) + " x " +
                       std::to_string(size) + " bytes, its offsets give " + std::to_string(offsets[1] - offsets[0]));
      ranges.emplace_back(offsets[0], offsets[1]);
      range_names.push_back(name);
      const unsigned char* p = data + offsets[0];
      a.values.resize(n);
      const bool integer = a.dtype[0] == 'I' || a.dtype == "U8";
      if (integer) a.integers.resize(n);
      for (std::uint64_t i = 0; i < n; ++i, p += size) {
        if (a.dtype == "F32") a.values[i] = detail::load_le<float>(p);
        else if (a.dtype == "F64") a.values[i] = static_cast<float>(detail::load_le<double>(p));
        else if (a.dtype == "F16") a.values[i] = detail::half_to_float(detail::load_le<std::uint16_t>(p));
        else if (a.dtype == "BF16") {
          const std::uint32_t bits = std::uint32_t(detail::load_le<std::uint16_t>(p)) << 16;
          std::memcpy(&a.values[i], &bits, 4);
        } else {
          a.integers[i] = a.dtype == "I64" ? detail::load_le<std::int64_t>(p)
                          : a.dtype == "I32" ? detail::load_le<std::int32_t>(p) : *p;
          a.values[i] = static_cast<float>(a.integers[i]);
        }
      }
      file.arrays.emplace(name, std::move(a));
    } catch (const nlohmann::json::exception& e) {
      throw io_error(what + "malformed entry (" + e.what() + ")");
    }
  }
  // No two tensors may share bytes: one written would change the other.
  std::vector<std::size_t> order(ranges.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto x, auto y) { return ranges[x] < ranges[y]; });
  std::uint64_t reach = 0;  // the furthest end so far, and whose it is
  std::size_t owner = 0;
  for (const auto k : order) {
    const auto [begin, end] = ranges[k];
    if (begin == end) continue;  // an empty tensor holds no bytes
    if (begin < reach)
      throw io_error(where + "tensors '" + range_names[owner] + "' and '" + range_names[k] + "' overlap in the data (bytes " +
                     std::to_string(begin) + " to " + std::to_string(std::min(reach, end)) + ")");
    reach = end, owner = k;
  }
  return file;
}

/// What to write: F32 arrays (pointer + extents) and I64 scalars, by name.
class safetensors_writer {
 public:
  void add(const std::string& name, std::vector<std::int64_t> dims, const float* values) {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    entries_[name] = {"F32", std::move(dims), std::string(reinterpret_cast<const char*>(values), static_cast<std::size_t>(n) * 4)};
  }
  void add_scalar(const std::string& name, std::int64_t value) {
    entries_[name] = {"I64", {}, std::string(reinterpret_cast<const char*>(&value), 8)};
  }
  void metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

  /// Writes the file atomically: a crash leaves the old file (or none), never a broken one.
  void write(const std::filesystem::path& path) const {
    nlohmann::ordered_json header;
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::uint64_t offset = 0;
    for (const auto& [name, e] : entries_) {
      header[name] = {{"dtype", e.dtype}, {"shape", e.dims}, {"data_offsets", {offset, offset + e.bytes.size()}}};
      offset += e.bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
    std::string out(8, '\0');
    const std::uint64_t len = text.size();
    std::memcpy(out.data(), &len, 8);
    out += text;
    for (const auto& [name, e] : entries_) out += e.bytes;
    write_file_atomically(path, out);
  }

 private:
  struct entry {
    std::string dtype;
    std::vector<std::int64_t> dims;
    std::string bytes;
  };
  std::map<std::string, entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace hush::io
