// tickforge CLI — SIGINT/SIGTERM: handlers that only set flags; the commands' loops poll them.
#pragma once

namespace tickforge::cli {

/// Installs the handlers (idempotent).
void install_signal_handlers();
/// Whether SIGINT or SIGTERM arrived, and which (0 when none).
[[nodiscard]] bool signalled() noexcept;
[[nodiscard]] int signal_number() noexcept;

}  // namespace tickforge::cli
