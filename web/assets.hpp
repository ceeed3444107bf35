// tickforge — the dashboard page's files, built into the binary (web/CMakeLists.txt generates the table
// from web/page/ at configure time): the page works with no internet, and no request path ever reaches
// the file system — a name is looked up in this table or is not found.
#pragma once

#include <cstddef>
#include <string_view>

namespace tickforge::web {

struct Asset {
  std::string_view name;          ///< "app.js"
  std::string_view content_type;  ///< "text/javascript; charset=utf-8"
  std::string_view data;
};

/// The file of that name (no folders), or nullptr.
const Asset* find_asset(std::string_view name) noexcept;

}  // namespace tickforge::web
