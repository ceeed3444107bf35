// tickforge — a file mapped read-only for a front-to-back read (the ITCH file feed, itch-serve).
//
// Thread contract: construct and destroy on one thread; data() may be read from any thread meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tickforge {

class MappedFile {
 public:
  MappedFile() = default;
  /// Maps `path` (an empty file: data() nullptr, size() 0), advising sequential reading. Throws
  /// std::runtime_error naming the file when it cannot be opened, is not a regular file, or cannot be mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  [[nodiscard]] const std::uint8_t* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  void unmap() noexcept;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tickforge
