#include "daemon.h"

#include <pthread.h>

namespace pfor {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::thread WatchTerminationSignals(
    std::function<void(const char* name)> on_signal) {
  return std::thread([on_signal = std::move(on_signal)] {
    const sigset_t set = TerminationSignals();
    while (true) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      on_signal(signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
  });
}

}  // namespace pfor
