#include "toml_guard.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace tickforge {

namespace {

class Rewriter {
 public:
  Rewriter(std::string_view in, const std::string& name) : in_(in), name_(name) {
    out_.reserve(in.size() + 16);
  }

  std::string run() {
    if (!simdjson::validate_utf8(in_.data(), in_.size())) {
      fail_at_first_bad_utf8();
    }
    if (in_.starts_with("\xEF\xBB\xBF")) {  // a byte-order mark: not part of the document
      pos_ = 3;
    }
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '#') {
        comment();
      } else if (c == '"') {
        in_.substr(pos_).starts_with("\"\"\"") ? basic(true) : basic(false);
      } else if (c == '\'') {
        in_.substr(pos_).starts_with("'''") ? literal(true) : literal(false);
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        fail("a non-ASCII character outside a string or comment (TOML allows them only there)");
      } else {
        copy();
      }
    }
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument(name_ + ":" + std::to_string(line_) + ": " + why);
  }

  [[noreturn]] void fail_at_first_bad_utf8() {
    // simdjson says the text is not UTF-8; find the line for the message (prefix validation).
    std::size_t lo = 0;
    std::size_t hi = in_.size();
    while (hi - lo > 1) {  // the longest valid prefix ends within one character of the bad byte
      const std::size_t mid = lo + (hi - lo) / 2;
      (simdjson::validate_utf8(in_.data(), mid) ? lo : hi) = mid;
    }
    for (std::size_t i = 0; i < lo; ++i) {
      line_ += in_[i] == '\n' ? 1 : 0;
    }
    fail("not valid UTF-8");
  }

  void copy() {
    line_ += in_[pos_] == '\n' ? 1 : 0;
    out_ += in_[pos_++];
  }

  // The code point at pos_ (valid UTF-8, checked above); advances past it.
  std::uint32_t decode() {
    const auto b0 = static_cast<unsigned char>(in_[pos_]);
    const int len = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    std::uint32_t cp = len == 1 ? b0 : len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
    for (int i = 1; i < len; ++i) {
      cp = (cp << 6) | (static_cast<unsigned char>(in_[pos_ + i]) & 0x3F);
    }
    pos_ += len;
    return cp;
  }

  void escape_code_point() {
    const std::uint32_t cp = decode();
    char buf[16];
    std::snprintf(buf, sizeof buf, cp <= 0xFFFF ? "\\u%04X" : "\\U%08X", cp);
    out_ += buf;
  }

  bool non_ascii() const { return static_cast<unsigned char>(in_[pos_]) >= 0x80; }

  void comment() {
    while (pos_ < in_.size() && in_[pos_] != '\n') {
      if (non_ascii()) {
        decode();
        out_ += '?';
      } else {
        copy();
      }
    }
  }

  // "…" or """…""", copied with non-ASCII characters escaped.
  void basic(bool multi) {
    const std::size_t quotes = multi ? 3 : 1;
    out_.append(quotes, '"');
    pos_ += quotes;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '\\') {
        copy();
        if (pos_ < in_.size()) {
          if (non_ascii()) {
            fail("a backslash before a non-ASCII character is not a TOML escape");
          }
          copy();
        }
      } else if (c == '"' && (!multi || in_.substr(pos_).starts_with("\"\"\""))) {
        close_quotes(multi, '"', '"');
        return;
      } else if (c == '\n' && !multi) {
        return;  // unterminated: toml++ reports it
      } else if (non_ascii()) {
        escape_code_point();
      } else {
        copy();
      }
    }
  }

  // '…' or '''…''' rewritten as "…" or """…""": the same characters, with '\' and '"' escaped.
  void literal(bool multi) {
    const std::size_t quotes = multi ? 3 : 1;
    out_.append(quotes, '"');
    pos_ += quotes;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '\'' && (!multi || in_.substr(pos_).starts_with("'''"))) {
        close_quotes(multi, '\'', '"');
        return;
      }
      if (c == '\n' && !multi) {
        return;  // unterminated: toml++ reports it
      }
      if (c == '\\' || c == '"') {
        out_ += '\\';
        copy();
      } else if (non_ascii()) {
        escape_code_point();
      } else {
        copy();
      }
    }
  }

  // The closing delimiter. In a multi-line string up to two more quote characters right before the
  // closing three belong to the content (TOML 1.0: """a"""" is 'a"').
  void close_quotes(bool multi, char quote, char written) {
    std::size_t run = 0;
    while (pos_ + run < in_.size() && in_[pos_ + run] == quote) {
      ++run;
    }
    if (!multi) {
      run = 1;
    }
    const std::size_t content = multi && run > 3 ? (run - 3 > 2 ? 2 : run - 3) : 0;
    out_.append(content, quote);  // ' or " is plain text inside a """ string
    out_.append(multi ? 3 : 1, written);
    pos_ += content + (multi ? 3 : 1);
  }

  std::string_view in_;
  const std::string& name_;
  std::string out_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

std::string toml_ascii(std::string_view text, const std::string& name) {
  return Rewriter(text, name).run();
}

}  // namespace tickforge
