#include "pfor/client.h"

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "follower.h"
#include "grpc_calls.h"
#include "local_cluster.h"
#include "pfor/common/blocking.h"
#include "pfor/common/credentials.h"
#include "pfor/future.h"

namespace pfor {

class Client::Impl {
 public:
  Impl(std::string target, std::unique_ptr<LocalCluster> cluster,
       std::unique_ptr<CoordinatorCalls> calls, const ClientOptions& options)
      : target_(std::move(target)),
        cluster_(std::move(cluster)),
        calls_(std::move(calls)),
        reconnect_timeout_(options.reconnect_timeout),
        timeout_(options.timeout) {}

  // A kernel of the embedded worker may be calling this client (a nested
  // Parallel): closing the follower ends its waits, and its slot is joined
  // before the follower and the calls it uses go.
  ~Impl() {
    internal::Follower* follower;
    {
      std::lock_guard lock(follower_mu_);
      follower = follower_.get();
    }
    // Unlocked: closing runs handlers, which may ask for the follower.
    if (follower != nullptr) follower->Close();
    if (cluster_ != nullptr) cluster_->StopWorker();
  }

  bool embedded() const { return cluster_ != nullptr; }
  const std::string& target() const { return target_; }
  CoordinatorCalls& calls() { return *calls_; }

  internal::Follower& follower() {
    std::lock_guard lock(follower_mu_);
    if (follower_ == nullptr) {
      follower_ = std::make_unique<internal::Follower>(
          *calls_, target_, reconnect_timeout_, timeout_);
    }
    return *follower_;
  }

 private:
  std::string target_;
  // Declared first so they go last: the calls need the cluster, the
  // follower needs the calls.
  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<CoordinatorCalls> calls_;
  const absl::Duration reconnect_timeout_;
  const absl::Duration timeout_;
  std::mutex follower_mu_;
  std::unique_ptr<internal::Follower> follower_;
};

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("client timeout ", absl::FormatDuration(options.timeout),
                     " is not positive; pass a timeout such as 10s"));
  }
  if (options.reconnect_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "reconnect timeout must not be negative; 0 fails followed jobs at "
        "once when the coordinator is lost");
  }
  std::string address = options.coordinator;
  if (address.empty()) {
    const char* env = std::getenv("PFOR_COORDINATOR");
    if (env != nullptr) address = env;
  }
  if (address.empty()) {
    absl::StatusOr<std::unique_ptr<LocalCluster>> cluster = LocalCluster::Start(
        options.embedded_threads, options.embedded_test_kernels);
    if (!cluster.ok()) return cluster.status();
    std::unique_ptr<CoordinatorCalls> calls = (*cluster)->Calls();
    return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(
        "embedded", *std::move(cluster), std::move(calls), options)));
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("coordinator address '", address,
                     "' has no port; pass HOST:PORT, such as 127.0.0.1:7070"));
  }
  // gRPC would take a port past 65535 modulo 2^16: another port.
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "coordinator address '", address, "' has no port between 1 and 65535",
        "; pass HOST:PORT, such as 127.0.0.1:7070"));
  }
  Credentials credentials{.tls = {.cert = options.tls_cert,
                                  .key = options.tls_key,
                                  .ca = options.tls_ca},
                          .token = options.token};
  if (credentials.token.empty()) {
    absl::StatusOr<std::string> token = ReadToken("");
    if (!token.ok()) return token.status();
    credentials.token = *std::move(token);
  }
  absl::StatusOr<std::unique_ptr<CoordinatorCalls>> calls =
      internal::NewGrpcCalls(address, options.timeout, credentials);
  if (!calls.ok()) return calls.status();
  return std::unique_ptr<Client>(new Client(
      std::make_unique<Impl>(address, nullptr, *std::move(calls), options)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

namespace internal {
Follower& FollowerOf(Client& client) { return client.impl_->follower(); }
}  // namespace internal

bool Client::embedded() const { return impl_->embedded(); }
std::string Client::target() const { return impl_->target(); }

absl::StatusOr<JobStatus> Client::Submit(const JobSpec& spec) {
  return impl_->calls().Submit(spec);
}

absl::StatusOr<JobStatus> Client::Get(uint64_t job, TaskPage tasks) {
  return impl_->calls().Get(job, /*with_recent_chunks=*/true, tasks);
}

absl::StatusOr<JobStatus> Client::Cancel(uint64_t job, bool only_if_queued) {
  return impl_->calls().Cancel(job, only_if_queued);
}

absl::StatusOr<JobStatus> Client::Wait(
    uint64_t job, const std::function<void(const JobStatus&)>& on_update,
    absl::Duration interval) {
  return WaitFor(job, absl::InfinitePast(), on_update, interval);
}

absl::StatusOr<JobStatus> Client::Wait(
    const JobStatus& submitted,
    const std::function<void(const JobStatus&)>& on_update,
    absl::Duration interval) {
  return WaitFor(submitted.id, submitted.submit_time, on_update, interval);
}

absl::StatusOr<JobStatus> Client::WaitFor(
    uint64_t job, absl::Time submitted,
    const std::function<void(const JobStatus&)>& on_update,
    absl::Duration interval) {
  if (internal::OnCallbackThread()) {
    return internal::WaitOnCallbackThread(
        absl::StrCat("waiting for job ", job));
  }
  // The job as its events build it up; the final one is the answer.
  struct Waiting {
    std::mutex mu;
    std::condition_variable ended;
    JobStatus last;                                 // guarded by mu
    std::optional<absl::StatusOr<JobStatus>> done;  // guarded by mu
  };
  auto waiting = std::make_shared<Waiting>();
  impl_->follower().Follow(
      job,
      [waiting, on_update, job](const absl::StatusOr<JobEvent>& event) {
        std::unique_lock lock(waiting->mu);
        JobStatus& last = waiting->last;
        if (!event.ok()) {
          waiting->done = event.status();
        } else if (event->missing) {
          waiting->done = absl::NotFoundError(
              absl::StrCat("job ", job,
                           " does not exist or is no longer kept; pfor jobs "
                           "lists the jobs"));
        } else {
          if (event->status != nullptr) {
            std::vector<TaskResult> tasks = std::move(last.task_results);
            last = *event->status;
            last.task_results = std::move(tasks);
          }
          last.state = event->state;
          last.progress = event->progress;
          for (const TaskRun& run : event->tasks) {
            const size_t end = run.first_task + run.results->size();
            if (last.task_results.size() < end) {
              last.task_results.resize(end, absl::UnknownError("no result"));
            }
            std::copy(run.results->begin(), run.results->end(),
                      last.task_results.begin() + run.first_task);
          }
          if (on_update) on_update(last);
          if (IsFinal(event->state)) waiting->done = last;
        }
        if (waiting->done.has_value()) waiting->ended.notify_all();
      },
      interval, submitted);
  BlockingScope blocking;  // without a lock: it may deliver events here
  std::unique_lock lock(waiting->mu);
  waiting->ended.wait(lock, [&] { return waiting->done.has_value(); });
  return *std::move(waiting->done);
}

absl::StatusOr<JobStatus> Client::Run(
    const JobSpec& spec,
    const std::function<void(const JobStatus&)>& on_update) {
  // Not a job that nobody waits for.
  if (internal::OnCallbackThread()) {
    return internal::WaitOnCallbackThread("running a job");
  }
  absl::StatusOr<JobStatus> submitted = Submit(spec);
  if (!submitted.ok()) return submitted.status();
  return Wait(*submitted, on_update);
}

absl::StatusOr<std::vector<JobStatus>> Client::ListJobs(int limit) {
  return impl_->calls().ListJobs(limit);
}

absl::StatusOr<std::vector<WorkerStatus>> Client::ListWorkers() {
  return impl_->calls().ListWorkers();
}

absl::StatusOr<std::vector<KernelInfo>> Client::ListKernels() {
  return impl_->calls().ListKernels();
}

}  // namespace pfor
