// tickforge — the dashboard's HTTP library chosen by measurement: the same event stream served by our
// server (Boost.Beast, web/http_server.cpp: one thread, epoll) and by cpp-httplib 0.11 (Debian's
// libcpp-httplib-dev: a blocking thread pool, one pool thread held by every open stream), so that
// scripts/bench-http-libs.py can measure memory, threads and CPU per client, and how late events arrive,
// side by side in one run.
//
//   bench_http_servers beast|httplib [--pool N] [--payload BYTES]
//
// Serves GET /stream as text/event-stream: every 100 ms (the dashboard's tick) one event carrying the
// wall-clock time it was made (`{"t":NS,…}`, CLOCK_REALTIME, so that a client in another process can
// tell how late it is) padded to BYTES (default 1,200: a ticker's snapshot and the top tickers, as the
// dashboard sends). Conflated in both: a client gets the newest event, never a backlog. `--pool` sizes
// cpp-httplib's pool (default: its own, max(8, CPUs − 1) threads). Prints "listening PORT" and serves
// until its standard input closes.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "http_server.hpp"

namespace {

constexpr auto kTick = std::chrono::milliseconds(100);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The tick number now: both servers send one event per tick, rendered when it is sent.
std::uint64_t tick_now() {
  return static_cast<std::uint64_t>(now_ns() / std::chrono::nanoseconds(kTick).count());
}

std::string event(std::size_t payload) {
  std::string s = "{\"t\":" + std::to_string(now_ns()) + ",\"pad\":\"";
  if (s.size() + 2 < payload) {
    s.append(payload - s.size() - 2, 'x');
  }
  s += "\"}";
  return s;
}

void wait_for_stdin_eof() {
  std::string line;
  while (std::getline(std::cin, line)) {
  }
}

int run_beast(std::size_t payload) {
  tickforge::web::HttpOptions opt;
  opt.port = 0;
  opt.max_clients = 100'000;
  opt.tick_interval_ns = std::chrono::nanoseconds(kTick).count();
  tickforge::web::HttpServer server(opt);
  server.stream("/stream", [payload](const tickforge::web::HttpRequest&, std::uint64_t& cursor) -> std::string {
    const std::uint64_t t = tick_now();
    if (t == cursor) {
      return "";
    }
    cursor = t;
    return event(payload);
  });
  server.start();
  std::printf("listening %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  wait_for_stdin_eof();
  server.stop();
  return 0;
}

int run_httplib(std::size_t payload, int pool) {
  httplib::Server server;
  if (pool > 0) {
    server.new_task_queue = [pool] { return new httplib::ThreadPool(static_cast<std::size_t>(pool)); };
  }
  server.Get("/stream", [payload](const httplib::Request&, httplib::Response& res) {
    // cpp-httplib's way to stream: the provider runs on the connection's pool thread and blocks it
    // for as long as the client stays (here until the next tick, then one event).
    res.set_chunked_content_provider("text/event-stream", [payload](std::size_t, httplib::DataSink& sink) {
      const auto next = std::chrono::system_clock::time_point(std::chrono::nanoseconds(
          static_cast<std::int64_t>(tick_now() + 1) * std::chrono::nanoseconds(kTick).count()));
      std::this_thread::sleep_until(next);
      const std::string data = "data: " + event(payload) + "\n\n";
      return sink.write(data.data(), data.size());
    });
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port < 0) {
    std::fprintf(stderr, "bench_http_servers: cannot bind 127.0.0.1\n");
    return 1;
  }
  std::thread t([&server] { server.listen_after_bind(); });
  std::printf("listening %d\n", port);
  std::fflush(stdout);
  wait_for_stdin_eof();
  server.stop();
  t.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_http_servers beast|httplib [--pool N] [--payload BYTES]\n");
    return 2;
  }
  const std::string which = argv[1];
  int pool = 0;
  std::size_t payload = 1200;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--pool") {
      pool = std::atoi(argv[i + 1]);
    } else if (flag == "--payload") {
      payload = static_cast<std::size_t>(std::atol(argv[i + 1]));
    } else {
      std::fprintf(stderr, "bench_http_servers: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (which == "beast") {
    return run_beast(payload);
  }
  if (which == "httplib") {
    return run_httplib(payload, pool);
  }
  std::fprintf(stderr, "bench_http_servers: unknown server %s (beast or httplib)\n", which.c_str());
  return 2;
}
