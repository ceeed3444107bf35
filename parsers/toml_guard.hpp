// tickforge — keeps bytes that trip toml++ 3.3.0 away from it.
//
// toml++ 3.3.0 (Debian 12) reaches __builtin_unreachable() in is_non_ascii_horizontal_whitespace() for
// most code points in U+00A1..U+0499 and some above (it is called on every character outside strings, on
// quoted keys and after line-ending backslashes): undefined behaviour on input as small as "Я" (fixed
// upstream after 3.3.0). TOML allows non-ASCII text only inside strings and comments, so this pass
// rewrites a document into pure ASCII with the same meaning before toml++ sees it:
//   * invalid UTF-8 anywhere, or a non-ASCII character outside a string or comment → an error naming the
//     line (it would be a TOML error anyway);
//   * basic strings ("…", """…"""): each non-ASCII character becomes its \uXXXX / \UXXXXXXXX escape;
//   * literal strings ('…', '''…'''): become basic strings with '\' and '"' escaped, the same value;
//   * comments: each non-ASCII character becomes '?'.
// Newlines are never added or removed, so toml++'s line numbers still point into the original text.
//
// Cold path: allocates; throws std::invalid_argument("NAME:LINE: why").
#pragma once

#include <string>
#include <string_view>

namespace tickforge {

std::string toml_ascii(std::string_view text, const std::string& name);

}  // namespace tickforge
