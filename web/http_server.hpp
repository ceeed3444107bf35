// tickforge — a small HTTP/1.1 server on one thread of its own (Boost.Beast over one asio io_context),
// for the dashboard's JSON endpoints, its event stream and the Prometheus endpoint.
//
//   accept ─▶ session: read one request (bounded header, no body) ─▶ route ─▶ write ─▶ read again (keep-alive)
//                                                                └▶ stream: event-stream headers, then
//                                                                   every tick the newest event, if new
//
// Private header. Every handler, the tick and every socket operation run on the server's one thread
// ("tf-http"): nothing here is shared with the engine's threads, and handlers need no lock among
// themselves. Why Beast (and not cpp-httplib or civetweb, which Debian also has): one thread serves every
// client with epoll, so a hundred open event streams cost a hundred sockets and buffers, not a hundred
// pool threads (cpp-httplib 0.11 blocks a pool thread per open stream; civetweb a thread per connection).
// Measured beside cpp-httplib (bench/bench_http_servers.cpp, docs/dashboard.md): 4.4× less memory and
// 1.9× less CPU per client than httplib sized to 100 streams, whose default pool starves 92 of them.
//
// Streams are conflated: a client gets at most one event per tick (tick_interval_ns, 100 ms by default),
// rendered for it when its previous write has finished, so it always gets the newest state and never a
// backlog. A client that does not take an event within write_timeout_ns, or sends nothing for
// idle_timeout_ns, is dropped (counted); beyond max_clients a new connection gets 503 and is closed.
// With a token set, every request must carry it (`Authorization: Bearer TOKEN`, `?token=TOKEN`, or the
// HttpOnly cookie `tf_token` a response to a `?token=` request sets, so that a page opened with the token
// loads its scripts and its event stream): 401 otherwise. The token is never logged.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tickforge::web {

struct HttpOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;           ///< 0: any free port (port() tells which)
  std::string token;                   ///< empty: none needed (loopback only: the caller checks)
  std::uint32_t max_clients = 64;      ///< open connections at once, event streams included
  int cpu = -1;                        ///< the server thread's CPU; -1 = not pinned
  std::int64_t tick_interval_ns = 100'000'000;
  std::int64_t idle_timeout_ns = 10'000'000'000;   ///< a request must arrive within this
  std::int64_t write_timeout_ns = 5'000'000'000;   ///< a response or an event must be taken within this
};

struct HttpRequest {
  std::string_view method;  ///< "GET", "HEAD", …
  std::string_view path;    ///< decoded of nothing: the raw path before '?'
  std::string_view query;   ///< after '?', without it ("" when none)
  /// The value of a query parameter, percent-decoded ('+' = space); false when absent.
  bool param(std::string_view name, std::string& value) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// A JSON error body {"error": message} with the status.
  static HttpResponse error(int status, std::string_view message);
};

/// What a stream sends: called on the server thread when a client can take its next event. `cursor`
/// is the client's own state (0 at first; e.g. the last alert id it was sent). Returns the event's data
/// (one JSON line), or "" when there is nothing new for this client.
using StreamRender = std::function<std::string(const HttpRequest& request, std::uint64_t& cursor)>;
using Handler = std::function<HttpResponse(const HttpRequest& request)>;

struct HttpStats {
  std::uint64_t accepted = 0;          ///< connections
  std::uint64_t requests = 0;          ///< requests answered (any status)
  std::uint64_t refused_busy = 0;      ///< connections answered 503: max_clients open
  std::uint64_t bad_requests = 0;      ///< 400 (malformed, too large) and 405
  std::uint64_t not_found = 0;         ///< 404
  std::uint64_t unauthorized = 0;      ///< 401
  std::uint64_t dropped_slow = 0;      ///< clients closed because they did not take a response or event in time
  std::uint64_t idle_closed = 0;       ///< connections closed after idle_timeout with no request
  std::uint64_t events_sent = 0;       ///< stream events written
  std::uint64_t open = 0;              ///< connections open now
  std::uint64_t streams = 0;           ///< event streams open now
};

class HttpServer {
 public:
  /// Binds and listens (the port is taken from now on). Throws std::runtime_error naming the address.
  explicit HttpServer(HttpOptions opt);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // ---- before start() ----
  /// GET (and HEAD) on `path`; a path ending in '/' is a prefix ("/api/ticker/" serves /api/ticker/X).
  void route(std::string path, Handler handler);
  /// An event stream (text/event-stream) on `path`.
  void stream(std::string path, StreamRender render);
  /// Called on the server thread once per tick, before the streams are served.
  void on_tick(std::function<void()> fn);

  /// Starts the server thread. Throws std::runtime_error if the CPU cannot be used.
  void start();
  /// Closes every connection and joins the thread. Idempotent.
  void stop();

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::string& host() const noexcept { return opt_.host; }
  /// Any thread: the counters as the server thread last published them (every tick).
  [[nodiscard]] HttpStats stats() const noexcept;

  struct Impl;  // http_server.cpp's (the sessions use it)

 private:
  HttpOptions opt_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace tickforge::web
