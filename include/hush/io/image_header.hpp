#pragma once
// An image's width and height from its header, read before anything is decoded, so that a small
// file claiming an enormous picture is refused before it costs memory. OpenCV checks only its
// own fixed limit (2^30 pixels) and offers no way to read a header alone; the formats people
// hand hush are read here: PNG, JPEG, BMP, PNM (PBM/PGM/PPM), TIFF and WebP. Any other format
// gets std::nullopt, and io::read_image refuses it.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hush::io {

/// An image's width and height, read from its header before anything is decoded, so that an
/// oversized picture can be refused before it costs memory.
struct image_size {
  std::int64_t width = 0, height = 0;
  std::int64_t pixels() const { return width * height; }
};

namespace detail {
/// The first bytes of a file or of an encoded image in memory, and a way to read past them
/// (JPEG's markers may be anywhere).
class header_bytes {
 public:
  explicit header_bytes(const std::filesystem::path& path) : in_(path, std::ios::binary) { more(64); }
  explicit header_bytes(std::span<const unsigned char> bytes) : memory_(bytes), in_memory_(true) { more(64); }
  std::size_t size() const { return b_.size(); }
  /// Makes sure `n` bytes are loaded (fewer if the file is shorter); false when it is.
  bool have(std::size_t n) {
    if (n > b_.size()) more(n - b_.size());
    return b_.size() >= n;
  }
  unsigned at(std::size_t i) const { return b_[i]; }
  std::uint32_t be16(std::size_t i) const { return at(i) << 8 | at(i + 1); }
  std::uint32_t be32(std::size_t i) const { return be16(i) << 16 | be16(i + 2); }
  std::uint32_t le16(std::size_t i) const { return at(i) | at(i + 1) << 8; }
  std::uint32_t le24(std::size_t i) const { return le16(i) | at(i + 2) << 16; }
  std::uint32_t le32(std::size_t i) const { return le16(i) | le16(i + 2) << 16; }
  bool starts(const char* magic) const {
    const auto n = std::strlen(magic);
    return b_.size() >= n && std::memcmp(b_.data(), magic, n) == 0;
  }

 private:
  void more(std::size_t n) {
    const auto old = b_.size();
    if (in_memory_) {
      const auto take = std::min(n, memory_.size() - old);
      b_.insert(b_.end(), memory_.begin() + std::ptrdiff_t(old), memory_.begin() + std::ptrdiff_t(old + take));
      return;
    }
    b_.resize(old + n);
    in_.read(reinterpret_cast<char*>(b_.data() + old), std::streamsize(n));
    b_.resize(old + std::size_t(in_.gcount()));
  }
  std::ifstream in_;
  std::span<const unsigned char> memory_;
  bool in_memory_ = false;
  std::vector<unsigned char> b_;
};

inline std::optional<image_size> jpeg_size(header_bytes& h) {
  std::size_t i = 2;
  for (int segments = 0; segments < 4096 && h.have(i + 9); ++segments) {
    if (h.at(i) != 0xFF) return std::nullopt;
    const unsigned marker = h.at(i + 1);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) return image_size{h.be16(i + 7), h.be16(i + 5)};
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end, or scan data before any frame
    i += 2 + h.be16(i + 2);
  }
  return std::nullopt;
}

inline std::optional<image_size> pnm_size(header_bytes& h) {
  h.have(1024);
  std::size_t i = 2;
  std::array<std::int64_t, 2> v{};
  for (auto& x : v) {
    for (;;) {  // whitespace and # comments
      while (i < h.size() && std::isspace(int(h.at(i)))) ++i;
      if (i < h.size() && h.at(i) == '#')
        while (i < h.size() && h.at(i) != '\n') ++i;
      else break;
    }
    if (i >= h.size() || !std::isdigit(int(h.at(i)))) return std::nullopt;
    for (; i < h.size() && std::isdigit(int(h.at(i))) && x < (std::int64_t(1) << 40); ++i) x = x * 10 + (h.at(i) - '0');
  }
  return image_size{v[0], v[1]};
}

inline std::optional<image_size> tiff_size(header_bytes& h) {
  const bool le = h.at(0) == 'I';
  const auto u16 = [&](std::size_t i) { return le ? h.le16(i) : h.be16(i); };
  const auto u32 = [&](std::size_t i) { return le ? h.le32(i) : h.be32(i); };
  const std::size_t ifd = u32(4);
  if (ifd > (std::size_t(1) << 24) || !h.have(ifd + 2)) return std::nullopt;  // the first IFD is near the start in practice
  const std::size_t entries = u16(ifd);
  if (!h.have(ifd + 2 + 12 * entries)) return std::nullopt;
  image_size s;
  for (std::size_t e = 0; e < entries; ++e) {
    const std::size_t at = ifd + 2 + 12 * e;
    const auto tag = u16(at), type = u16(at + 2);
    // Widths of another type are unknown (-1), not the unsigned wrap of -1.
    const std::int64_t value = type == 3 ? std::int64_t{u16(at + 8)} : type == 4 ? std::int64_t{u32(at + 8)} : -1;
    if (tag == 256) s.width = value;
    if (tag == 257) s.height = value;
  }
  if (s.width < 0 || s.height < 0 || (s.width == 0 && s.height == 0)) return std::nullopt;
  return s;
}

inline std::optional<image_size> webp_size(header_bytes& h) {
  if (!h.have(30)) return std::nullopt;
  if (h.at(12) == 'V' && h.at(13) == 'P' && h.at(14) == '8') {
    if (h.at(15) == ' ') return image_size{h.le16(26) & 0x3FFF, h.le16(28) & 0x3FFF};
    if (h.at(15) == 'L') {
      const auto bits = h.le32(21);
      return image_size{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
    }
    if (h.at(15) == 'X')
      return image_size{h.le24(24) + 1, h.le24(27) + 1};  // bytes 24-29: a 30-byte header holds them
  }
  return std::nullopt;
}

/// The size from whichever of the formats' headers `h` starts with.
inline std::optional<image_size> image_size_of(header_bytes& h) {
  if (h.starts("\x89PNG\r\n\x1a\n") && h.have(24)) return image_size{h.be32(16), h.be32(20)};
  if (h.size() >= 3 && h.at(0) == 0xFF && h.at(1) == 0xD8) return detail::jpeg_size(h);
  if (h.starts("BM") && h.have(26)) {
    if (h.le32(14) == 12) return image_size{h.le16(18), h.le16(20)};  // OS/2's 12-byte header: 16-bit extents
    const std::int64_t width = std::int32_t(h.le32(18)), height = std::int32_t(h.le32(22));  // negative: stored top-down
    if (width <= 0) return std::nullopt;
    return image_size{width, height < 0 ? -height : height};
  }
  if (h.size() >= 3 && h.at(0) == 'P' && h.at(1) >= '1' && h.at(1) <= '6') return detail::pnm_size(h);
  const bool tiff = h.have(8) && ((h.starts("II") && h.at(2) == 42 && h.at(3) == 0) || (h.starts("MM") && h.at(2) == 0 && h.at(3) == 42));
  if (tiff) return detail::tiff_size(h);
  if (h.starts("RIFF") && h.have(12) && h.at(8) == 'W' && h.at(9) == 'E' && h.at(10) == 'B' && h.at(11) == 'P')
    return detail::webp_size(h);
  return std::nullopt;
}
}  // namespace detail

/// The picture's size from the header of a PNG, JPEG, BMP, PNM, TIFF or WebP file, without
/// decoding it; std::nullopt for other formats or a header that cannot be read (the decoder
/// then reports it).
inline std::optional<image_size> read_image_size(const std::filesystem::path& path) {
  detail::header_bytes h(path);
  return detail::image_size_of(h);
}

/// The same for an encoded image in memory (an upload).
inline std::optional<image_size> read_image_size(std::span<const unsigned char> bytes) {
  detail::header_bytes h(bytes);
  return detail::image_size_of(h);
}

}  // namespace hush::io
