#include "pfor/common/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pfor {
namespace {

// A browser or two and a scraper: a few connections at a time.
constexpr int kThreads = 4;

}  // namespace

absl::Status HttpServer::CheckAddress(const std::string& listen,
                                      const std::string& flag) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", listen,
                     "' is not HOST:PORT; write it like 127.0.0.1:8080 (port "
                     "0 picks a free port)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& listen, const std::string& flag,
    const std::function<void(httplib::Server&)>& routes) {
  if (absl::Status valid = CheckAddress(listen, flag); !valid.ok()) {
    return valid;
  }
  const size_t colon = listen.rfind(':');
  int port = -1;
  (void)absl::SimpleAtoi(listen.substr(colon + 1), &port);  // checked above
  std::string host = listen.substr(0, colon);
  // [::1]:8080 binds ::1.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->server_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *server->server_;
  http.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // cpp-httplib's default adds SO_REUSEPORT, with which a second process
  // binds a port in use and silently shares it.
  http.set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  routes(http);
  const int bound = port == 0 ? http.bind_to_any_port(host)
                              : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve HTTP on ", listen,
                     "; is another process using the port? Pass ", flag,
                     " HOST:PORT with a free port, or port 0"));
  }
  server->port_ = bound;
  server->address_ = absl::StrCat(listen.substr(0, colon), ":", bound);
  server->thread_ = std::thread([&http] { http.listen_after_bind(); });
  // stop() does nothing to a server not yet running: wait until it is.
  while (!http.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server;
}

HttpServer::~HttpServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pfor
