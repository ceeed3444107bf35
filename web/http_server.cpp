#include "http_server.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <tickforge/platform.hpp>

namespace tickforge::web {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kHeaderLimit = 8192;  // request line + headers; beyond: 431-like 400, closed
constexpr std::int64_t kStreamPingNs = 10'000'000'000;  // a comment line on a quiet stream: a dead client shows

int hex(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Compares without stopping at the first difference (the token's length still shows; it is not secret).
bool same_secret(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

bool HttpRequest::param(std::string_view name, std::string& value) const {
  std::string_view q = query;
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view part = q.substr(0, amp);
    const std::size_t eq = part.find('=');
    if (percent_decode(part.substr(0, eq)) == name) {
      value = eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1));
      return true;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    q.remove_prefix(amp + 1);
  }
  return false;
}

HttpResponse HttpResponse::error(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  std::string esc;
  for (const char c : message) {
    if (c == '"' || c == '\\') {
      esc += '\\';
      esc += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      esc += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      esc += c;
    }
  }
  r.body = "{\"error\":\"" + esc + "\"}\n";
  return r;
}

// ---- the server -------------------------------------------------------------------------------------

enum Counter : std::size_t {
  kAccepted, kRequests, kRefusedBusy, kBadRequests, kNotFound, kUnauthorized, kDroppedSlow, kIdleClosed,
  kEventsSent, kOpen, kStreams, kCounters
};

struct Route {
  std::string path;
  bool prefix = false;
  Handler handler;
  StreamRender render;
};

class Session;

struct HttpServer::Impl {
  explicit Impl(const HttpOptions& o) : opt(o) {}

  // Single writer (the server thread); any thread reads (stats()).
  void bump(Counter c, std::int64_t by = 1) noexcept {
    counters[c].store(counters[c].load(std::memory_order_relaxed) + static_cast<std::uint64_t>(by),
                      std::memory_order_relaxed);
  }

  const Route* find(std::string_view path) const noexcept {
    for (const Route& r : routes) {
      if (r.prefix ? path.size() > r.path.size() && path.substr(0, r.path.size()) == r.path : path == r.path) {
        return &r;
      }
    }
    return nullptr;
  }

  void accept();
  void tick();
  void shutdown();

  HttpOptions opt;
  net::io_context ioc{1};  // first: destroyed last, after every socket and timer below
  tcp::acceptor acceptor{ioc};
  net::steady_timer ticker{ioc};
  std::vector<Route> routes;
  std::vector<std::function<void()>> tick_fns;
  std::vector<std::shared_ptr<Session>> streams;  // open event streams (the server thread only)
  std::vector<std::weak_ptr<Session>> sessions;   // every connection, for shutdown (pruned each tick)
  std::array<std::atomic<std::uint64_t>, kCounters> counters{};
  bool stopping = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl& srv, tcp::socket socket) : srv_(srv), socket_(std::move(socket)), deadline_(srv.ioc) {}

  void start() {
    srv_.bump(kOpen);
    read_request();
  }
  /// 503 and close, for a connection beyond max_clients (not counted as open).
  void refuse() {
    busy_ = true;
    static const std::string kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 36\r\n"
        "Connection: close\r\nRetry-After: 1\r\n\r\n{\"error\":\"too many clients, retry\"}\n";
    arm(srv_.opt.write_timeout_ns);
    net::async_write(socket_, net::buffer(kBusy), [self = shared_from_this()](beast::error_code, std::size_t) {
      self->close(false);
    });
  }

  /// A stream's next event, if the client has taken the last one and there is something new.
  void serve_stream(std::int64_t now_ns) {
    if (writing_ || closed_) {
      return;
    }
    std::string data;
    try {
      data = route_->render(request_, cursor_);
    } catch (const std::exception& e) {
      data = HttpResponse::error(500, e.what()).body;
      data.pop_back();
    }
    if (data.empty()) {
      if (now_ns - last_sent_ns_ < kStreamPingNs) {
        return;
      }
      event_ = ": ping\n\n";
    } else {
      event_ = "data: " + data + "\n\n";
      srv_.bump(kEventsSent);
    }
    last_sent_ns_ = now_ns;
    write_raw(event_, [](Session&) {});
  }

  void close(bool slow) {
    if (closed_) {
      return;
    }
    closed_ = true;
    if (slow) {
      srv_.bump(kDroppedSlow);
    }
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_.cancel();
    if (!busy_) {
      srv_.bump(kOpen, -1);
    }
    if (streaming_) {
      srv_.bump(kStreams, -1);
      auto& v = srv_.streams;
      v.erase(std::remove(v.begin(), v.end(), shared_from_this()), v.end());
    }
  }

 private:
  // One deadline per session for whatever operation is pending: on expiry the socket is closed, which
  // fails the operation (its handler sees timed_out_).
  void arm(std::int64_t ns) {
    deadline_.expires_after(std::chrono::nanoseconds(ns));
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->closed_) {
        self->timed_out_ = true;
        beast::error_code ignored;
        self->socket_.close(ignored);
      }
    });
  }
  void disarm() {
    deadline_.cancel();
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(0);  // GET and HEAD only: a request body is refused
    timed_out_ = false;
    arm(srv_.opt.idle_timeout_ns);
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->disarm();
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (closed_) {
      return;
    }
    if (ec) {
      if (timed_out_) {
        srv_.bump(kIdleClosed);
        close(false);
      } else if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) {
        close(false);
      } else {  // malformed, too large, a body: say so, then close
        respond(HttpResponse::error(400, "bad request: " + ec.message()), false);
        srv_.bump(kBadRequests);
      }
      return;
    }
    const auto& req = parser_->get();
    target_ = std::string(req.target());
    const std::size_t qm = target_.find('?');
    request_.path = std::string_view(target_).substr(0, qm);
    request_.query = qm == std::string::npos ? std::string_view() : std::string_view(target_).substr(qm + 1);
    method_ = std::string(req.method_string());
    request_.method = method_;
    head_ = req.method() == http::verb::head;
    const bool keep = req.keep_alive();
    if (req.method() != http::verb::get && !head_) {
      srv_.bump(kBadRequests);
      respond(HttpResponse::error(405, "only GET and HEAD"), false);
      return;
    }
    if (request_.path.empty() || request_.path.front() != '/') {
      srv_.bump(kBadRequests);
      respond(HttpResponse::error(400, "bad request target"), false);
      return;
    }
    if (!srv_.opt.token.empty() && !authorised(req)) {
      srv_.bump(kUnauthorized);
      respond(HttpResponse::error(401, "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN"), keep);
      return;
    }
    const Route* route = srv_.find(request_.path);
    if (route == nullptr) {
      srv_.bump(kNotFound);
      respond(HttpResponse::error(404, "no such page: see /api for the endpoints"), keep);
      return;
    }
    if (route->render) {
      start_stream(route);
      return;
    }
    HttpResponse res;
    try {
      res = route->handler(request_);
    } catch (const std::exception& e) {
      res = HttpResponse::error(500, e.what());
    }
    if (res.status == 400) {
      srv_.bump(kBadRequests);
    } else if (res.status == 404) {
      srv_.bump(kNotFound);
    }
    respond(std::move(res), keep);
  }

  template <typename Request>
  bool authorised(const Request& req) {
    const auto auth = req[http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() &&
        same_secret(std::string_view(auth.data(), auth.size()).substr(kBearer.size()), srv_.opt.token)) {
      return true;
    }
    // The cookie a page got when it was opened with ?token= (its scripts, styles and event stream send it).
    const auto cookie = req[http::field::cookie];
    std::string_view c(cookie.data(), cookie.size());
    for (std::size_t at = c.find("tf_token="); at != std::string_view::npos; at = c.find("tf_token=", at + 1)) {
      if (at == 0 || c[at - 1] == ' ' || c[at - 1] == ';') {
        std::string_view v = c.substr(at + 9);
        v = v.substr(0, v.find(';'));
        if (same_secret(v, srv_.opt.token)) {
          return true;
        }
      }
    }
    std::string t;
    if (request_.param("token", t) && same_secret(t, srv_.opt.token)) {
      set_cookie_ = true;
      return true;
    }
    return false;
  }

  void respond(HttpResponse r, bool keep_alive) {
    srv_.bump(kRequests);
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::server, "tickforge");
    res_.set(http::field::content_type, r.content_type);
    res_.set(http::field::cache_control, "no-store");
    res_.set("X-Content-Type-Options", "nosniff");
    if (set_cookie_) {  // the token came in the query: the page's own requests carry it from now on
      res_.set(http::field::set_cookie, "tf_token=" + srv_.opt.token + "; Path=/; HttpOnly; SameSite=Strict");
      set_cookie_ = false;
    }
    res_.keep_alive(keep_alive);
    res_.body() = std::move(r.body);
    res_.prepare_payload();
    if (head_) {
      res_.body().clear();  // Content-Length stays that of the GET
    }
    timed_out_ = false;
    arm(srv_.opt.write_timeout_ns);
    http::async_write(socket_, res_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      self->disarm();
      if (ec) {
        self->close(self->timed_out_);
      } else if (!keep_alive) {
        self->close(false);
      } else {
        self->read_request();
      }
    });
  }

  void start_stream(const Route* route) {
    srv_.bump(kRequests);
    route_ = route;
    streaming_ = true;
    srv_.bump(kStreams);
    srv_.streams.push_back(shared_from_this());
    event_ =
        "HTTP/1.1 200 OK\r\nServer: tickforge\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n: tickforge event stream\n\n";
    write_raw(event_, [](Session& s) { s.watch_close(); });
  }

  // A stream's socket is only written to; one pending read notices the client going away.
  void watch_close() {
    socket_.async_read_some(net::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->close(self->timed_out_);  // timed out: the deadline closed it under a write
      } else {
        self->watch_close();  // a client talking on a stream: ignored
      }
    });
  }

  template <typename Then>
  void write_raw(const std::string& bytes, Then then) {
    writing_ = true;
    timed_out_ = false;
    arm(srv_.opt.write_timeout_ns);
    net::async_write(socket_, net::buffer(bytes), [self = shared_from_this(), then](beast::error_code ec, std::size_t) {
      self->disarm();
      self->writing_ = false;
      if (ec) {
        self->close(self->timed_out_);
        return;
      }
      then(*self);
    });
  }

  HttpServer::Impl& srv_;
  tcp::socket socket_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_{kHeaderLimit};
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> res_;
  std::string target_;
  std::string method_;
  HttpRequest request_;
  const Route* route_ = nullptr;
  std::string event_;
  std::array<char, 256> sink_{};
  std::uint64_t cursor_ = 0;
  std::int64_t last_sent_ns_ = 0;
  bool head_ = false;
  bool streaming_ = false;
  bool writing_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  bool busy_ = false;
  bool set_cookie_ = false;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopping) {
      return;
    }
    if (!ec) {
      bump(kAccepted);
      auto s = std::make_shared<Session>(*this, std::move(socket));
      sessions.push_back(s);
      if (counters[kOpen].load(std::memory_order_relaxed) >= opt.max_clients) {
        bump(kRefusedBusy);
        s->refuse();
      } else {
        s->start();
      }
    }
    accept();  // errors (EMFILE, a reset before accept): keep accepting
  });
}

void HttpServer::Impl::tick() {
  ticker.expires_after(std::chrono::nanoseconds(opt.tick_interval_ns));
  ticker.async_wait([this](beast::error_code ec) {
    if (ec || stopping) {
      return;
    }
    for (auto& fn : tick_fns) {
      fn();
    }
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch()).count();
    const std::vector<std::shared_ptr<Session>> open = streams;  // a write error removes its session
    for (const auto& s : open) {
      s->serve_stream(now);
    }
    sessions.erase(std::remove_if(sessions.begin(), sessions.end(), [](const auto& w) { return w.expired(); }),
                   sessions.end());
    tick();
  });
}

void HttpServer::Impl::shutdown() {
  stopping = true;
  beast::error_code ec;
  acceptor.close(ec);
  ticker.cancel();
  for (const auto& w : sessions) {
    if (const auto s = w.lock()) {
      s->close(false);
    }
  }
  // The closed sessions' handlers are never run: the loop ends here, and they are destroyed with it.
  ioc.stop();
}

HttpServer::HttpServer(HttpOptions opt) : opt_(std::move(opt)), impl_(std::make_unique<Impl>(opt_)) {
  beast::error_code ec;
  const auto address = net::ip::make_address(opt_.host, ec);
  if (ec) {
    throw std::runtime_error("http: '" + opt_.host + "' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)");
  }
  const tcp::endpoint ep(address, opt_.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) {
    a.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    a.bind(ep, ec);
  }
  if (!ec) {
    a.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw std::runtime_error(fmt::format("http: cannot listen on {}:{}: {}", opt_.host, opt_.port, ec.message()));
  }
  port_ = a.local_endpoint().port();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string path, Handler handler) {
  Route r;
  r.prefix = !path.empty() && path.back() == '/' && path.size() > 1;
  r.path = std::move(path);
  r.handler = std::move(handler);
  impl_->routes.push_back(std::move(r));
}

void HttpServer::stream(std::string path, StreamRender render) {
  Route r;
  r.path = std::move(path);
  r.render = std::move(render);
  impl_->routes.push_back(std::move(r));
}

void HttpServer::on_tick(std::function<void()> fn) { impl_->tick_fns.push_back(std::move(fn)); }

void HttpServer::start() {
  if (opt_.cpu >= 0 && !cpu_usable(opt_.cpu)) {
    throw std::runtime_error(fmt::format("http-cpu {}: not a CPU this process may use", opt_.cpu));
  }
  impl_->accept();
  impl_->tick();
  thread_ = std::thread([this] {
    name_current_thread("tf-http");
    if (opt_.cpu >= 0) {
      pin_current_thread(opt_.cpu, nullptr);
    }
    impl_->ioc.run();
  });
}

void HttpServer::stop() {
  if (!thread_.joinable()) {
    return;
  }
  net::post(impl_->ioc, [this] { impl_->shutdown(); });  // closes every socket, then ends the loop
  thread_.join();
  impl_->streams.clear();
}

HttpStats HttpServer::stats() const noexcept {
  const auto& c = impl_->counters;
  auto v = [&](Counter k) { return c[k].load(std::memory_order_relaxed); };
  HttpStats s;
  s.accepted = v(kAccepted);
  s.requests = v(kRequests);
  s.refused_busy = v(kRefusedBusy);
  s.bad_requests = v(kBadRequests);
  s.not_found = v(kNotFound);
  s.unauthorized = v(kUnauthorized);
  s.dropped_slow = v(kDroppedSlow);
  s.idle_closed = v(kIdleClosed);
  s.events_sent = v(kEventsSent);
  s.open = v(kOpen);
  s.streams = v(kStreams);
  return s;
}

}  // namespace tickforge::web
