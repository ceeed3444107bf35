#include "toml_guard.hpp"

#include <simdjson.h>

#include <cctype>
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
      check_control(c);
      if (c == '\n') {
        line_start_ = true;
        expect_value_ = expect_value_ && depth_ > 0;  // a value ends with its line, unless in an array
        copy();
        continue;
      }
      if (c == '=') {
        expect_value_ = true;
      } else if (c == '[') {
        if (depth_ > 0 || expect_value_) {
          ++depth_;  // an array value
        } else if (line_start_) {
          table_header();
          continue;
        }
      } else if (c == ']' && depth_ > 0) {
        --depth_;
      }
      if (c != ' ' && c != '\t' && c != '\r') {
        line_start_ = false;
      }
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

  // TOML allows no control character but tab (and CR LF line ends) anywhere, not even in comments; toml++
  // handles most, but one after a '[' trips an assertion: refuse them all here.
  void check_control(char c) const {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04X", u);
      fail(std::string("a control character (U+") + buf + ") is not allowed in TOML");
    }
  }

  // [table] or [[array-of-tables]] at the start of a line: toml++ 3.3.0 asserts that a key follows
  // (a bare key character or a quote), so anything else is refused here with the line.
  void table_header() {
    copy();  // '['
    if (pos_ < in_.size() && in_[pos_] == '[') {
      copy();
    }
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t')) {
      copy();
    }
    const char k = pos_ < in_.size() ? in_[pos_] : '\0';
    if (pos_ < in_.size()) {
      check_control(k);
    }
    if (std::isalnum(static_cast<unsigned char>(k)) == 0 && k != '_' && k != '-' && k != '"' && k != '\'') {
      fail("a table header needs a key, e.g. [tickers.AAPL]");
    }
    line_start_ = false;
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
      check_control(in_[pos_]);
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
    line_start_ = false;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      check_control(c);
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
    line_start_ = false;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      check_control(c);
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
  bool line_start_ = true;     // only whitespace so far on this line (outside strings)
  bool expect_value_ = false;  // an '=' was seen: a '[' now opens an array, not a table header
  std::size_t depth_ = 0;      // open arrays of the current value
};

}  // namespace

std::string toml_ascii(std::string_view text, const std::string& name) {
  return Rewriter(text, name).run();
}

}  // namespace tickforge
