#include "pfor/worker/worker.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "command_runner.h"
#include "engine.h"
#include "grpc_link.h"
#include "kernel_call.h"
#include "process_runner.h"

namespace pfor::worker {
namespace {

constexpr int kMaxSlots = 4096;

std::string DefaultName() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

}  // namespace

class Worker::Impl {
 public:
  explicit Impl(EngineOptions options) : engine(std::move(options)) {}
  Engine engine;
};

absl::StatusOr<std::unique_ptr<Worker>> Worker::Start(WorkerOptions options) {
  if (options.link == nullptr && options.coordinator.empty()) {
    return absl::InvalidArgumentError(
        "no coordinator address; pass --coordinator HOST:PORT or set "
        "PFOR_COORDINATOR");
  }
  if (options.link != nullptr && !options.coordinator.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("both a coordinator address (", options.coordinator,
                     ") and in-process links were given; pass one of them"));
  }
  const int cores =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options.threads == 0) options.threads = cores;
  if (options.processes == 0) options.processes = cores;
  if (options.processes == -1) options.processes = 0;
  for (const auto& [flag, slots] : {std::pair{"--threads", options.threads},
                                    {"--processes", options.processes},
                                    {"--command-slots", options.commands}}) {
    if (slots < 0 || slots > kMaxSlots) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " ", slots, " is out of range; pass 0 to ", kMaxSlots));
    }
  }
  if (options.threads + options.processes + options.commands == 0) {
    return absl::InvalidArgumentError("the worker has no slots at all");
  }
  if (options.prefetch < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--prefetch ", options.prefetch,
                     " is out of range; pass -1 (adaptive) or a count >= 0"));
  }
  if (options.prefetch_target <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prefetch target ", absl::FormatDuration(options.prefetch_target),
        " must be positive"));
  }
  if (options.name.empty()) options.name = DefaultName();
  if (options.reconnect_min <= absl::ZeroDuration() ||
      options.reconnect_max < options.reconnect_min) {
    return absl::InvalidArgumentError(
        "reconnect backoff must be positive and min <= max");
  }

  EngineOptions engine;
  engine.name = std::move(options.name);
  engine.version = PFOR_VERSION;
  engine.slots = {options.threads, options.processes, options.commands};
  if (options.threads > 0) engine.runners[0] = NewInProcessRunner();
  if (options.processes > 0) {
    engine.runners[1] = NewProcessRunner(
        {.helper_path = options.helper_path.empty() ? DefaultHelperPath()
                                                    : options.helper_path,
         .plugins = options.plugins,
         .memory_limit_bytes = options.helper_memory_limit_bytes});
  }
  if (options.commands > 0) {
    engine.runners[2] =
        NewCommandRunner(std::move(options.command_environment));
  }
  engine.prefetch = options.prefetch;
  engine.prefetch_target = options.prefetch_target;
  engine.kernels =
      options.kernels != nullptr ? options.kernels : &KernelRegistry::Global();
  engine.helper_kernels = std::move(options.helper_kernels);
  if (options.link != nullptr) {
    engine.opener = std::move(options.link);
  } else {
    absl::StatusOr<WorkerLinkOpener> opener =
        GrpcLinkOpener(options.coordinator, options.credentials);
    if (!opener.ok()) return opener.status();
    engine.opener = *std::move(opener);
  }
  engine.reconnect_min = options.reconnect_min;
  engine.reconnect_max = options.reconnect_max;
  if (options.logger != nullptr) {
    engine.log = [logger = options.logger](LogLevel level,
                                           const std::string& line) {
      logger->Log(level, line);
    };
  }
  return std::unique_ptr<Worker>(
      new Worker(std::make_unique<Impl>(std::move(engine))));
}

Worker::Worker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Worker::~Worker() = default;
void Worker::Drain(absl::Duration grace) { impl_->engine.Drain(grace); }
void Worker::Stop() { impl_->engine.Stop(); }
int Worker::slots() const { return impl_->engine.slots(); }
bool Worker::connected() const { return impl_->engine.connected(); }
WorkerStats Worker::Stats() const { return impl_->engine.Stats(); }

}  // namespace pfor::worker
