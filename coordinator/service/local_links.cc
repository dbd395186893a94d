#include "local_links.h"

#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pfor::coordinator {
namespace {

// Hands queued batches to a consumer in order, one at a time, on whichever
// thread flushes first; a flush that finds a delivery under way leaves the
// work to that thread, which loops until nothing is queued. So a consumer
// may queue more (or close) from inside a delivery without deadlock, and
// the close comes last.
template <typename Batch>
class InOrder {
 public:
  // False (nothing queued) once closing.
  bool Queue(Batch batch) {
    std::lock_guard lock(mu_);
    if (close_status_) return false;
    pending_.Merge(std::move(batch));
    return true;
  }

  // What is still queued is dropped; the consumer hears `status` last.
  void Close(absl::Status status) {
    std::lock_guard lock(mu_);
    if (close_status_) return;
    close_status_ = std::move(status);
    pending_ = Batch();
  }

  template <typename Deliver, typename Closed>
  void Flush(Deliver deliver, Closed closed) {
    std::unique_lock lock(mu_);
    if (delivering_ || done_) return;
    delivering_ = true;
    while (true) {
      if (!pending_.empty()) {
        Batch batch = std::exchange(pending_, Batch());
        lock.unlock();
        deliver(std::move(batch));
        lock.lock();
      } else if (close_status_ && !done_) {
        done_ = true;
        const absl::Status status = *close_status_;
        lock.unlock();
        closed(status);
        lock.lock();
      } else {
        break;
      }
    }
    delivering_ = false;
  }

  bool closing() {
    std::lock_guard lock(mu_);
    return close_status_.has_value();
  }

 private:
  std::mutex mu_;
  Batch pending_;                             // guarded by mu_
  std::optional<absl::Status> close_status_;  // guarded by mu_
  bool delivering_ = false;                   // guarded by mu_
  bool done_ = false;                         // guarded by mu_
};

class LocalLink final : public WorkerLink,
                        public WorkerOutbox,
                        public std::enable_shared_from_this<LocalLink> {
 public:
  LocalLink(SchedulerHost* host, WorkerLinkHandler* handler)
      : host_(host), handler_(handler) {}

  void Open(WorkerMessage hello) {
    absl::StatusOr<WorkerId> id =
        host_->Join(std::move(hello), "in-process", shared_from_this());
    if (id.ok()) {
      std::lock_guard lock(mu_);
      id_ = *id;
    } else {
      queue_.Close(id.status());
    }
    Flush();
  }

  // WorkerLink
  void Send(WorkerMessage message) override {
    if (queue_.closing()) return;
    host_->Report(id(), std::move(message));
  }
  void CloseWrites() override {
    End(absl::OkStatus(), "the worker closed its link");
  }
  void Cancel() override {
    End(absl::CancelledError("the worker cancelled its link"),
        "the worker cancelled its link");
  }

  // WorkerOutbox
  void Queue(CoordinatorMessage message) override {
    queue_.Queue(std::move(message));
  }
  void Close(const std::string& reason) override {
    queue_.Close(absl::UnavailableError(reason));
  }
  void Flush() override {
    queue_.Flush(
        [this](CoordinatorMessage message) {
          handler_->OnMessage(std::move(message));
        },
        [this](const absl::Status& status) { handler_->OnClosed(status); });
  }

 private:
  WorkerId id() {
    std::lock_guard lock(mu_);
    return id_;
  }

  void End(absl::Status status, const std::string& reason) {
    if (queue_.closing()) return;
    queue_.Close(std::move(status));
    host_->Leave(id(), reason);
    Flush();
  }

  SchedulerHost* const host_;
  WorkerLinkHandler* const handler_;
  InOrder<CoordinatorMessage> queue_;
  std::mutex mu_;
  WorkerId id_ = 0;  // guarded by mu_
};

// Who submits through an in-process session or calls object: each is a
// client of its own for fair shares.
std::string Submitter(const void* client) {
  return absl::StrCat("in-process client ",
                      absl::Hex(reinterpret_cast<uintptr_t>(client)));
}

class LocalSession final : public Session,
                           public SessionSink,
                           public std::enable_shared_from_this<LocalSession> {
 public:
  LocalSession(SchedulerHost* host, SessionHandler* handler)
      : host_(host), handler_(handler) {}

  // Session
  void Submit(uint64_t call, std::shared_ptr<const JobSpec> spec,
              bool follow) override {
    std::weak_ptr<LocalSession> self = shared_from_this();
    host_->Submit(
        std::move(spec), Submitter(this),
        [host = host_, self, call, follow](absl::StatusOr<JobStatus> job) {
          if (auto session = self.lock()) {
            host->Answer(session.get(), call, std::move(job), follow);
          }
        });
  }
  void Follow(uint64_t job, absl::Duration progress_interval) override {
    host_->Follow(this, job, progress_interval);
  }
  void Close() override {
    host_->EndSession(this);
    Close(absl::CancelledError("the session was closed"));
  }

  // SessionSink
  void Flush() override {
    TakeOutbox([this](SessionOutbox::Batch batch) {
      return queue_.Queue(std::move(batch));
    });
    queue_.Flush(
        [this](SessionOutbox::Batch batch) {
          for (SessionOutbox::Answer& answer : batch.answers) {
            handler_->OnSubmitted(answer.call, std::move(answer.job));
          }
          if (!batch.events.empty()) {
            handler_->OnEvents(std::move(batch.events));
          }
        },
        [this](const absl::Status& status) { handler_->OnClosed(status); });
  }
  void Close(const absl::Status& status) override {
    queue_.Close(status);
    Flush();
  }

 private:
  SchedulerHost* const host_;
  SessionHandler* const handler_;
  InOrder<SessionOutbox::Batch> queue_;
};

class LocalCalls final : public CoordinatorCalls {
 public:
  explicit LocalCalls(SchedulerHost* host) : host_(host) {}

  absl::StatusOr<JobStatus> Submit(const JobSpec& spec) override {
    std::promise<absl::StatusOr<JobStatus>> answer;
    std::future<absl::StatusOr<JobStatus>> answered = answer.get_future();
    host_->Submit(std::make_shared<const JobSpec>(spec), Submitter(this),
                  [&answer](absl::StatusOr<JobStatus> job) {
                    answer.set_value(std::move(job));
                  });
    return answered.get();
  }
  absl::StatusOr<JobStatus> Get(uint64_t job, bool with_recent_chunks,
                                TaskPage tasks) override {
    return host_->Get(job, with_recent_chunks, tasks);
  }
  absl::StatusOr<JobStatus> Cancel(uint64_t job, bool only_if_queued) override {
    return host_->Cancel(job, only_if_queued);
  }
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit) override {
    return host_->ListJobs(limit);
  }
  absl::StatusOr<std::vector<WorkerStatus>> ListWorkers() override {
    return host_->ListWorkers();
  }
  absl::StatusOr<std::vector<KernelInfo>> ListKernels() override {
    return host_->ListKernels();
  }
  std::shared_ptr<Session> OpenSession(SessionHandler* handler) override {
    auto session = std::make_shared<LocalSession>(host_, handler);
    host_->AddSession(session);
    return session;
  }

 private:
  SchedulerHost* const host_;
};

}  // namespace

WorkerLinkOpener LocalWorkerLinks(SchedulerHost* host) {
  return [host](WorkerMessage hello, WorkerLinkHandler* handler) {
    auto link = std::make_shared<LocalLink>(host, handler);
    link->Open(std::move(hello));
    return std::shared_ptr<WorkerLink>(link);
  };
}

std::unique_ptr<CoordinatorCalls> NewLocalCalls(SchedulerHost* host) {
  return std::make_unique<LocalCalls>(host);
}

}  // namespace pfor::coordinator
