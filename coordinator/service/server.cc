#include "pfor/coordinator/server.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "coordinator_service.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "journal_writer.h"
#include "local_links.h"
#include "scheduler_host.h"
#include "sqlite_journal.h"
#include "worker_link_service.h"

namespace pfor::coordinator {
namespace {

constexpr absl::Duration kTickInterval = absl::Milliseconds(100);
constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace

struct CoordinatorServer::State {
  State(const ServerOptions& options, std::unique_ptr<Journal> opened)
      : clock(options.clock != nullptr ? *options.clock : Clock::Real()),
        journal(std::move(opened)),
        writer(journal == nullptr
                   ? nullptr
                   : std::make_unique<JournalWriter>(journal.get())),
        log(options.log),
        host(options, clock, writer.get()),
        coordinator(&host),
        worker_link(&host) {}

  Clock& clock;
  // Declared before the host so they go after it: it appends until it is
  // gone.
  std::unique_ptr<Journal> journal;
  std::unique_ptr<JournalWriter> writer;
  std::function<void(const std::string&)> log;
  SchedulerHost host;
  CoordinatorService coordinator;
  WorkerLinkService worker_link;
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
    if (!log) return;
    log(journal_writes
            ? "the journal writes again: serving, and accepting jobs"
            : absl::StrCat("the journal cannot write (", status.message(),
                           "): not serving, and accepting no jobs until "
                           "it can; free space on the disk of --state-dir"));
  }
};

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    const ServerOptions& options) {
  std::unique_ptr<Journal> journal;
  std::vector<RecoveredJob> recovered;
  if (!options.state_dir.empty()) {
    absl::StatusOr<OpenedJournal> opened =
        OpenSqliteJournal({.directory = options.state_dir,
                           .keep_jobs = options.scheduling.keep_jobs,
                           .recover = options.recover});
    if (!opened.ok()) return opened.status();
    if (options.log) {
      for (const std::string& line : opened->recovered) options.log(line);
    }
    absl::StatusOr<std::vector<RecoveredJob>> loaded = opened->journal->Load();
    if (!loaded.ok()) return loaded.status();
    journal = std::move(opened->journal);
    recovered = *std::move(loaded);
  }
  auto state = std::make_unique<State>(options, std::move(journal));
  state->resumed_jobs = state->host.Restore(recovered);
  if (!options.listen.empty()) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                             &state->port);
    builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
    builder.SetMaxSendMessageSize(kMaxMessageBytes);
    builder.RegisterService(&state->coordinator);
    builder.RegisterService(&state->worker_link);
    state->server = builder.BuildAndStart();
    if (state->server == nullptr || state->port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.listen,
                       "; is another process using the port? Pass --listen "
                       "HOST:PORT with a free port, or port 0"));
    }
  }
  State* raw = state.get();
  state->ticker = std::thread([raw] {
    while (!raw->stop.WaitForNotificationWithTimeout(kTickInterval)) {
      raw->host.Tick();
      raw->WatchJournal();
    }
  });
  return std::unique_ptr<CoordinatorServer>(
      new CoordinatorServer(std::move(state)));
}

CoordinatorServer::CoordinatorServer(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

int CoordinatorServer::port() const { return state_->port; }

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
