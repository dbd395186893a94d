// pfor-helper: runs chunks for a worker's processes executor, one at a time,
// so that a kernel that crashes, exits, leaks or hangs costs this process and
// never the worker daemon.
//
// Reads HelperRequests from standard input and answers each with a
// HelperResponse on standard output, length-delimited
// (proto/pfor/v1/helper.proto); exits 0 when standard input closes. Kernels
// run through the same RunChunk as the threads executor, so results are
// bit-identical. Whatever a kernel prints to standard output goes to standard
// error: the protocol stream moves to a private descriptor at start.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "helper_protocol.h"
#include "kernel_call.h"
#include "pfor/builtin_kernels.h"
#include "pfor/common/wire_job.h"
#include "pfor/common/wire_link.h"
#include "pfor/kernel.h"
#include "pfor/v1/helper.pb.h"
#include "plugin_loader.h"

namespace pfor::worker {
namespace {

// Set by the new-handler when an allocation fails during the current chunk.
std::atomic<bool> allocation_failed{false};
// Written to standard error on the first failed allocation of a chunk. Built
// up front: there is no memory to build it when it is needed. If the helper
// dies of it, the worker shows it in the stderr tail of its error.
std::string* allocation_failed_note = nullptr;

void OnAllocationFailure() {
  if (!allocation_failed.exchange(true) && allocation_failed_note != nullptr) {
    [[maybe_unused]] ssize_t ignored =
        write(STDERR_FILENO, allocation_failed_note->data(),
              allocation_failed_note->size());
  }
  throw std::bad_alloc();
}

// "2 GiB", "256 MiB", "1.5 GiB", "1000 bytes".
std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " bytes");
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  return absl::StrCat(absl::StrFormat("%.4g", value), " ", kUnits[unit]);
}

void Complain(const std::string& line) {
  std::fprintf(stderr, "pfor-helper: %s\n", line.c_str());
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// A job as the worker's JobContext would hold it, or why it cannot run.
struct HelperJob {
  std::shared_ptr<const JobContext> context;
  absl::Status error;
};

HelperJob MakeJob(const v1::JobDefinition& wire,
                  const KernelRegistry& registry) {
  HelperJob job;
  absl::StatusOr<JobDefinition> definition = FromProto(wire);
  if (!definition.ok()) {
    // Still a context, so that the job's chunks fail with the reason.
    auto unreadable = std::make_shared<JobDefinition>();
    unreadable->job = wire.job_id();
    job.context = MakeJobContext(std::move(unreadable), registry);
    job.error = absl::InvalidArgumentError(
        absl::StrCat("job ", wire.job_id(),
                     ": bad definition: ", definition.status().message()));
    return job;
  }
  job.context = MakeJobContext(
      std::make_shared<const JobDefinition>(*std::move(definition)), registry);
  if (job.context->kernel == nullptr) {
    job.error = absl::FailedPreconditionError(absl::StrCat(
        "pfor-helper has no kernel named ", wire.kernel(),
        "; the processes executor runs built-in kernels and those of plugins "
        "(pfor-worker --plugin), not kernels a program registers for itself"));
  }
  return job;
}

class Server {
 public:
  Server(const KernelRegistry& registry, int64_t memory_limit)
      : registry_(registry), memory_limit_(memory_limit) {}

  v1::HelperResponse Handle(const v1::HelperRequest& request) {
    if (request.has_job()) job_ = MakeJob(request.job(), registry_);
    absl::StatusOr<ChunkOutput> output = Run(request);
    v1::HelperResponse response;
    if (output.ok()) {
      *response.mutable_value() = ToProto(*output, request.begin());
    } else {
      response.set_code(static_cast<int32_t>(output.status().code()));
      std::string error(output.status().message());
      if (allocation_failed && memory_limit_ > 0) {
        absl::StrAppend(&error, " (memory limit ", FormatBytes(memory_limit_),
                        " exceeded; pfor-worker --memory-limit sets it)");
      }
      response.set_error(std::move(error));
    }
    return response;
  }

 private:
  absl::StatusOr<ChunkOutput> Run(const v1::HelperRequest& request) {
    if (job_.context == nullptr || job_.context->id() != request.job_id()) {
      return absl::InternalError(
          absl::StrCat("pfor-helper was sent a chunk of job ", request.job_id(),
                       " without its definition"));
    }
    if (!job_.error.ok()) return job_.error;
    ChunkTask task{job_.context, request.begin(), request.end(),
                   request.attempt(), request.index()};
    if (request.tasks_size() > 0) {
      auto tasks = std::make_shared<std::vector<Task>>();
      tasks->reserve(static_cast<size_t>(request.tasks_size()));
      for (const v1::Task& wire : request.tasks()) {
        absl::StatusOr<Task> decoded = FromProto(wire);
        if (!decoded.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "job ", request.job_id(), ": task ",
              request.begin() + static_cast<int64_t>(tasks->size()), ": ",
              decoded.status().message()));
        }
        tasks->push_back(*std::move(decoded));
      }
      task.tasks = std::move(tasks);
    }
    // Cancellation kills the helper: the kernel never sees the flag raised.
    static const std::atomic<bool> kNeverCancelled{false};
    allocation_failed = false;
    return RunChunk(task, kNeverCancelled);
  }

  const KernelRegistry& registry_;
  const int64_t memory_limit_;
  HelperJob job_;
};

int Serve(int in, int out, Server& server) {
  FrameReader reader;
  std::vector<char> buffer(64 * 1024);
  while (true) {
    v1::HelperRequest request;
    absl::StatusOr<bool> parsed = reader.Next(request);
    if (!parsed.ok()) {
      Complain(absl::StrCat("unreadable request: ", parsed.status().message()));
      return 2;
    }
    if (!*parsed) {
      const ssize_t n = read(in, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Complain(absl::StrCat("cannot read requests: ", std::strerror(errno)));
        return 2;
      }
      // The worker closed the pipe (or died): nothing more to do.
      if (n == 0) return 0;
      reader.Append(buffer.data(), static_cast<size_t>(n));
      continue;
    }
    std::string frame;
    AppendFrame(server.Handle(request), frame);
    if (!WriteAll(out, frame)) return 0;  // the worker went away
  }
}

// Moves the protocol off descriptors 0 and 1, so that kernels reading
// standard input or printing to standard output cannot corrupt it.
bool MoveProtocolAside(int& in, int& out) {
  in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0 || out < 0 || null < 0 || dup2(null, STDIN_FILENO) < 0 ||
      dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    return false;
  }
  close(null);
  return true;
}

int Main(int argc, char** argv) {
  int in = -1;
  int out = -1;
  if (!MoveProtocolAside(in, out)) {
    Complain(absl::StrCat("cannot set up its pipes: ", std::strerror(errno)));
    return 2;
  }
  CLI::App app(
      "pfor-helper: runs chunks for a pfor-worker's processes executor, one at "
      "a time, reading requests on standard input and writing results on "
      "standard output (length-delimited pfor.v1.HelperRequest and "
      "HelperResponse). Started by pfor-worker; not meant to be run by hand.",
      "pfor-helper");
  std::vector<std::string> plugins;
  int64_t memory_limit = 0;
  pid_t parent = 0;
  app.add_option("--plugin", plugins, "A kernel plugin to load (repeatable)");
  app.add_option("--memory-limit", memory_limit,
                 "Address space this process may use, in bytes (RLIMIT_AS); 0 "
                 "means no limit")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--parent", parent,
                 "Exit at once if this process is not the parent");
  CLI11_PARSE(app, argc, argv);

  // Die with the worker, even in the middle of a kernel that hangs.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent != 0 && getppid() != parent) return 0;
  // A worker that goes away shows up as a failed write, not a signal.
  std::signal(SIGPIPE, SIG_IGN);

  pfor::KernelRegistry registry;
  // The test kernels too: a helper runs only what its worker sends, and
  // the worker sends them only when it offers them (--enable-test-kernels).
  absl::Status registered = pfor::RegisterBuiltinKernels(registry);
  if (registered.ok()) registered = pfor::RegisterTestKernels(registry);
  if (absl::Status status = registered; !status.ok()) {
    Complain(std::string(status.message()));
    return 1;
  }
  for (const std::string& plugin : plugins) {
    if (absl::StatusOr<LoadedPlugin> loaded = LoadPlugin(plugin, registry);
        !loaded.ok()) {
      Complain(std::string(loaded.status().message()));
      return 2;
    }
  }

  if (memory_limit > 0) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // Sanitizers reserve terabytes of address space up front.
    Complain("built with a sanitizer: --memory-limit is ignored");
#else
    const rlimit limit{static_cast<rlim_t>(memory_limit),
                       static_cast<rlim_t>(memory_limit)};
    if (setrlimit(RLIMIT_AS, &limit) != 0) {
      Complain(
          absl::StrCat("cannot set the memory limit: ", std::strerror(errno)));
      return 2;
    }
#endif
  }
  allocation_failed_note = new std::string(
      memory_limit > 0
          ? absl::StrCat("pfor-helper: memory limit ",
                         FormatBytes(memory_limit),
                         " exceeded: an allocation failed\n")
          : std::string("pfor-helper: out of memory: an allocation failed\n"));
  std::set_new_handler(OnAllocationFailure);

  Server server(registry, memory_limit);
  return Serve(in, out, server);
}

}  // namespace
}  // namespace pfor::worker

int main(int argc, char** argv) { return pfor::worker::Main(argc, argv); }
