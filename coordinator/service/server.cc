#include "pfor/coordinator/server.h"

#include <algorithm>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "auth.h"
#include "coordinator_service.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "journal_writer.h"
#include "local_links.h"
#include "pfor/common/grpc_credentials.h"
#include "pfor/common/log.h"
#include "scheduler_host.h"
#include "sqlite_journal.h"
#include "worker_link_service.h"

namespace pfor::coordinator {
namespace {

constexpr absl::Duration kTickInterval = absl::Milliseconds(100);

// Whether HOST:PORT names a loopback address, which only this machine can
// reach.
bool IsLoopback(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return absl::StartsWith(host, "127.") || host == "localhost" ||
         host == "[::1]" || host == "::1";
}

// Without tokens anybody who reaches the port may do anything: refuse to
// listen beyond loopback unless told to, and say what the coordinator
// accepts.
absl::Status CheckExposure(const ServerOptions& options) {
  const SecurityOptions& security = options.security;
  auto log = [&](LogLevel level, const std::string& line) {
    if (options.logger != nullptr) options.logger->Log(level, line);
  };
  if (!security.tokens_file.empty()) return absl::OkStatus();
  if (IsLoopback(options.listen)) {
    log(LogLevel::kInfo,
        "no --tokens: accepting connections from this machine (loopback) "
        "only");
    return absl::OkStatus();
  }
  if (!security.insecure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", options.listen,
        " reaches beyond this machine, and without --tokens anyone who "
        "reaches it may run, cancel or poison jobs; pass --tokens FILE "
        "(docs/security.md), listen on 127.0.0.1, or pass --insecure on a "
        "network you trust"));
  }
  log(LogLevel::kWarning,
      absl::StrCat("--insecure: anyone who reaches ", options.listen,
                   " may submit, cancel and join as a worker; use --tokens "
                   "and TLS on any shared network (docs/security.md)"));
  return absl::OkStatus();
}

// The HTTP module's view of the cluster: the host's.
class HostView final : public ClusterView {
 public:
  explicit HostView(SchedulerHost* host) : host_(host) {}
  std::vector<WorkerStatus> ListWorkers() override {
    return host_->ListWorkers();
  }
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int limit) override {
    return host_->ListJobs(limit);
  }
  absl::StatusOr<JobStatus> GetJob(uint64_t job, TaskPage tasks) override {
    return host_->Get(job, /*with_recent_chunks=*/true, tasks);
  }
  absl::StatusOr<JobStatus> CancelJob(uint64_t job) override {
    return host_->Cancel(job);
  }
  CoordinatorStats Stats() override { return host_->Stats(); }

 private:
  SchedulerHost* const host_;
};

}  // namespace

struct CoordinatorServer::State {
  State(const ServerOptions& options, std::unique_ptr<Journal> opened,
        std::unique_ptr<Authenticator> authenticator)
      : clock(options.clock != nullptr ? *options.clock : Clock::Real()),
        auth(std::move(authenticator)),
        journal(std::move(opened)),
        writer(journal == nullptr
                   ? nullptr
                   : std::make_unique<JournalWriter>(journal.get())),
        logger(options.logger),
        host(options, clock, writer.get()),
        coordinator(&host, auth.get()),
        worker_link(&host, auth.get()),
        view(&host) {}

  Clock& clock;
  std::unique_ptr<Authenticator> auth;
  // Declared before the host so they go after it: it appends until it is
  // gone.
  std::unique_ptr<Journal> journal;
  std::unique_ptr<JournalWriter> writer;
  const Logger* const logger;
  SchedulerHost host;
  CoordinatorService coordinator;
  WorkerLinkService worker_link;
  HostView view;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  int resumed_jobs = 0;
  std::thread ticker;
  absl::Notification stop;
  absl::Notification done;
  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
  // Whether the journal could write at the last tick; the ticker's own.
  bool journal_writes = true;

  // On the ticker: while the journal cannot write, health says NOT_SERVING
  // (and SubmitJob refuses jobs); both come back when it writes again.
  void WatchJournal() {
    if (writer == nullptr) return;
    const absl::Status status = writer->status();
    if (status.ok() == journal_writes) return;
    journal_writes = status.ok();
    if (server != nullptr) {
      server->GetHealthCheckService()->SetServingStatus(journal_writes);
    }
    if (logger == nullptr) return;
    if (journal_writes) {
      logger->Log(LogLevel::kInfo,
                  "the journal writes again: serving, and accepting jobs");
    } else {
      logger->Log(LogLevel::kError,
                  absl::StrCat("the journal cannot write (", status.message(),
                               "): not serving, and accepting no jobs until "
                               "it can; free space on the disk of "
                               "--state-dir"));
    }
  }
};

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    const ServerOptions& options) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::unique_ptr<Authenticator> auth;
  if (!options.listen.empty()) {
    if (absl::Status status = CheckExposure(options); !status.ok()) {
      return status;
    }
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> made =
        MakeServerCredentials(options.security.tls);
    if (!made.ok()) return made.status();
    credentials = *std::move(made);
    if (options.security.require_worker_certificates &&
        options.security.tls.ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls-verify-workers checks worker certificates against --tls-ca; "
          "pass --tls-ca with --tls-cert and --tls-key");
    }
    absl::StatusOr<std::unique_ptr<Authenticator>> created =
        Authenticator::Create(
            options.security,
            options.clock != nullptr ? *options.clock : Clock::Real(),
            [logger = options.logger](const std::string& line) {
              // The token table could not be read again, or was.
              if (logger != nullptr) logger->Log(LogLevel::kWarning, line);
            });
    if (!created.ok()) return created.status();
    auth = *std::move(created);
  }
  std::unique_ptr<Journal> journal;
  std::vector<RecoveredJob> recovered;
  if (!options.state_dir.empty()) {
    absl::StatusOr<OpenedJournal> opened =
        OpenSqliteJournal({.directory = options.state_dir,
                           .keep_jobs = options.scheduling.keep_jobs,
                           .recover = options.recover});
    if (!opened.ok()) return opened.status();
    if (options.logger != nullptr) {
      for (const std::string& line : opened->recovered) {
        options.logger->Log(LogLevel::kWarning, line);
      }
    }
    absl::StatusOr<std::vector<RecoveredJob>> loaded = opened->journal->Load();
    if (!loaded.ok()) return loaded.status();
    journal = std::move(opened->journal);
    recovered = *std::move(loaded);
  }
  auto state =
      std::make_unique<State>(options, std::move(journal), std::move(auth));
  state->resumed_jobs = state->host.Restore(recovered);
  if (!options.listen.empty()) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen, credentials, &state->port);
    // gRPC sets SO_REUSEPORT by default: a second coordinator on the same
    // port would start and split the clients and workers with the first.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    const int max_message_bytes = static_cast<int>(
        std::min<int64_t>(options.security.max_message_bytes, INT32_MAX));
    builder.SetMaxReceiveMessageSize(max_message_bytes);
    builder.SetMaxSendMessageSize(max_message_bytes);
    builder.RegisterService(&state->coordinator);
    builder.RegisterService(&state->worker_link);
    state->server = builder.BuildAndStart();
    if (state->server == nullptr || state->port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.listen,
                       ": address in use (is another coordinator there?) or "
                       "not available; pass --listen HOST:PORT with a free "
                       "port, or port 0"));
    }
  }
  State* raw = state.get();
  state->ticker = std::thread([raw] {
    absl::Duration wait = kTickInterval;
    while (!raw->stop.WaitForNotificationWithTimeout(wait)) {
      // Sooner when an attempt's --chunk-timeout ends before the next
      // regular tick, so that it ends on time.
      wait = std::clamp(raw->host.Tick() - raw->clock.Now(),
                        absl::Milliseconds(1), kTickInterval);
      raw->WatchJournal();
      if (raw->auth != nullptr) raw->auth->ReloadIfChanged();
    }
  });
  return std::unique_ptr<CoordinatorServer>(
      new CoordinatorServer(std::move(state)));
}

CoordinatorServer::CoordinatorServer(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

int CoordinatorServer::port() const { return state_->port; }

ClusterView& CoordinatorServer::view() { return state_->view; }

int CoordinatorServer::resumed_jobs() const { return state_->resumed_jobs; }

WorkerLinkOpener CoordinatorServer::LocalWorkerLinks() {
  return coordinator::LocalWorkerLinks(&state_->host);
}

std::unique_ptr<CoordinatorCalls> CoordinatorServer::LocalCalls() {
  return NewLocalCalls(&state_->host);
}

void CoordinatorServer::Shutdown(absl::Duration grace) {
  bool first;
  {
    absl::MutexLock lock(&state_->shutdown_mu);
    first = !state_->shut_down;
    state_->shut_down = true;
  }
  if (!first) {
    state_->done.WaitForNotification();
    return;
  }
  state_->host.CloseAll("the coordinator is shutting down");
  if (state_->server != nullptr) {
    state_->server->Shutdown(std::chrono::system_clock::now() +
                             absl::ToChronoNanoseconds(grace));
    state_->server->Wait();
  }
  state_->stop.Notify();
  state_->ticker.join();
  state_->done.Notify();
}

void CoordinatorServer::Wait() { state_->done.WaitForNotification(); }

}  // namespace pfor::coordinator
