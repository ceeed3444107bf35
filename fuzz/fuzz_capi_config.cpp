// The C API's configuration calls (tf_config_set, tf_config_load_string) on any bytes: no crash, no UB,
// no C++ exception across the boundary; every call returns a known code and a NUL-terminated message.
#include <tickforge/tickforge.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_support.hpp"

namespace {
void check(tf_err_t rc, const char (&err)[64]) {
  FUZZ_ASSERT(rc == TF_OK || rc == TF_ERR_UNKNOWN_KEY || rc == TF_ERR_BAD_VALUE || rc == TF_ERR_INVALID_ARG ||
              rc == TF_ERR_IO);
  if (rc != TF_OK) {
    FUZZ_ASSERT(std::memchr(err, '\0', sizeof err) != nullptr && err[0] != '\0');  // a message, terminated
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tf_config_t* conf = tf_config_new();
  FUZZ_ASSERT(conf != nullptr);
  const std::string in(reinterpret_cast<const char*>(data), size);  // NUL-terminated copy
  char err[64];
  std::memset(err, 'x', sizeof err);
  // KEY\0VALUE: one tf_config_set; otherwise the text (up to the first NUL) as TOML.
  if (const std::size_t nul = in.find('\0'); nul != std::string::npos) {
    check(tf_config_set(conf, in.c_str(), in.c_str() + nul + 1, err, sizeof err), err);
  } else {
    check(tf_config_load_string(conf, in.c_str(), err, sizeof err), err);
  }
  tf_config_destroy(conf);
  return 0;
}
