// Settings (app/settings.cpp) from TOML text and from NAME=VALUE pairs, the way --config and flags
// reach them: no crash, no UB (toml++ 3.3.0's unreachable() on non-ASCII must never be reached: see
// toml_guard.hpp); refusals are std::invalid_argument only; an accepted configuration validates.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  tickforge::RunOptions opt;
  try {
    // Input "NAME=VALUE\n" lines first (flags), or else the whole text as a TOML document.
    if (in.starts_with("--")) {
      std::size_t at = 2;
      while (at < in.size()) {
        const std::size_t nl = in.find('\n', at);
        const std::string_view line =
            in.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
        const std::size_t eq = line.find('=');
        if (eq != std::string_view::npos) {
          tickforge::apply_setting(opt, line.substr(0, eq), line.substr(eq + 1));
        }
        at = nl == std::string_view::npos ? in.size() : nl + 1;
      }
    } else {
      tickforge::load_config_string(opt, in, "fuzz.toml");
    }
    opt.finalize();
    opt.engine.validate();  // finalize() validated it: it must hold
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
