#include "itch_serve.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "itch_server.hpp"
#include "signals.hpp"

namespace tickforge::cli {

int itch_serve(RunOptions opt) {
  if (opt.serve.file.empty()) {
    fmt::print(stderr, "tickforge: error: itch-serve needs --serve-file FILE (an ITCH 5.0 file)\n");
    return 2;
  }
  std::unique_ptr<ItchServer> server;
  try {
    server = std::make_unique<ItchServer>(opt.serve);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "tickforge: error: {}\n", e.what());
    return 2;
  }
  install_signal_handlers();
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  // The server's loops look at `stop`; this thread turns a signal into it (relaxed: a flag, no data).
  std::thread watcher([&] {
    while (!finished.load(std::memory_order_relaxed)) {
      if (signalled()) {
        stop.store(true, std::memory_order_relaxed);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const ItchServeStats s = server->run(stop, stderr);
  finished.store(true, std::memory_order_relaxed);
  watcher.join();
  if (stop.load(std::memory_order_relaxed)) {
    fmt::print(stderr, "itch-serve: stopped by signal {}\n", signal_number());
  }
  return s.send_errors == 0 ? 0 : 1;
}

}  // namespace tickforge::cli
