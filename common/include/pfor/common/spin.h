// Spinning before sleeping, where the next event usually comes within
// microseconds: a slot waiting for its next chunk, a caller waiting for a
// one-chunk job's result. Waking a sleeping thread costs tens of
// microseconds on a virtual machine, more than a whole noop chunk; a short,
// bounded spin catches what comes soon and then lets the thread sleep.
#ifndef PFOR_COMMON_SPIN_H_
#define PFOR_COMMON_SPIN_H_

#include <chrono>

namespace pfor {

// How long a thread spins before it sleeps.
inline constexpr std::chrono::microseconds kSpinBeforeSleep{50};

// Calls `ready()` until it returns true or `limit` passes; returns its last
// answer. Never blocks; yields the CPU's pipeline (not the CPU) between
// calls.
template <typename Ready>
bool SpinUntil(Ready ready,
               std::chrono::microseconds limit = kSpinBeforeSleep) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

}  // namespace pfor

#endif  // PFOR_COMMON_SPIN_H_
