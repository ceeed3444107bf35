// Test support for ITCH 5.0: a file's bytes, and messages written field by field at the specification's
// offsets (tests/test_itch.cpp, tests/test_itch_feed.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tickforge::test {

inline std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A message written field by field at the specification's offsets.
struct Bytes {
  std::vector<std::uint8_t> b;
  explicit Bytes(std::size_t len, char type, std::uint16_t locate, std::uint16_t tracking, std::uint64_t ns)
      : b(len, 0) {
    b[0] = static_cast<std::uint8_t>(type);
    be(1, 2, locate);
    be(3, 2, tracking);
    be(5, 6, ns);
  }
  Bytes& be(std::size_t off, std::size_t n, std::uint64_t v) {
    for (std::size_t i = 0; i < n; ++i) {
      b.at(off + i) = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
    }
    return *this;
  }
  Bytes& alpha(std::size_t off, const std::string& s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      b.at(off + i) = static_cast<std::uint8_t>(i < s.size() ? s[i] : ' ');
    }
    return *this;
  }
  Bytes& c(std::size_t off, char v) {
    b.at(off) = static_cast<std::uint8_t>(v);
    return *this;
  }
};

}  // namespace tickforge::test
