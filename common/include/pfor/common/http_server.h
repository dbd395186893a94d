// The daemons' HTTP server (cpp-httplib, from Debian): binds HOST:PORT and
// serves the routes it is given on a small thread pool of its own, apart
// from gRPC and from the scheduler. The coordinator serves its dashboard,
// JSON API and /metrics on it, a worker its /metrics.
//
// Thread-safe; handlers run on the server's threads, several at once.
#ifndef PFOR_COMMON_HTTP_SERVER_H_
#define PFOR_COMMON_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace pfor {

class HttpServer {
 public:
  // INVALID_ARGUMENT, naming `flag` and the fix, unless `listen` is
  // HOST:PORT: for a daemon to refuse the flag before it starts anything.
  static absl::Status CheckAddress(const std::string& listen,
                                   const std::string& flag);
  // Binds `listen` (HOST:PORT; port 0 picks a free port), lets `routes`
  // add its handlers, and starts serving. INVALID_ARGUMENT for an address
  // that is not HOST:PORT, UNAVAILABLE when it cannot be bound; both name
  // `flag` and the fix.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& listen, const std::string& flag,
      const std::function<void(httplib::Server&)>& routes);
  // Stops serving and joins the threads.
  ~HttpServer();

  // The port bound.
  int port() const { return port_; }
  // HOST:PORT with the port bound, for the readiness line.
  const std::string& address() const { return address_; }

 private:
  HttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::string address_;
  std::thread thread_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_HTTP_SERVER_H_
