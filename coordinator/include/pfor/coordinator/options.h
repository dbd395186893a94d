// How a coordinator behaves: the settings of its scheduler and of its
// server, each with its one default (pfor-coordinator's flags start from
// these).
#ifndef PFOR_COORDINATOR_OPTIONS_H_
#define PFOR_COORDINATOR_OPTIONS_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "pfor/common/credentials.h"

namespace pfor {
class Clock;
class Logger;
}  // namespace pfor

namespace pfor::coordinator {

struct SchedulerOptions {
  // A worker silent for this long is declared lost (--heartbeat-timeout).
  absl::Duration heartbeat_timeout = absl::Seconds(5);
  // Finished jobs kept for listings; older ones are forgotten (--keep-jobs).
  int keep_jobs = 1000;
  // Bytes the kept finished jobs may hold in memory (their specs, a
  // batch's tasks and task results, a collect job's values); the oldest are
  // forgotten beyond it, however few they are (--keep-bytes). The newest
  // finished job is kept whatever its size.
  int64_t keep_bytes = int64_t{256} << 20;
  // Jobs queued or running at once; more are refused.
  int max_active_jobs = 10000;
  // A chunk whose worker is lost while running it is not at fault: that
  // does not count against the job's max_attempts. Only a chunk that was
  // running on this many lost workers (it may be what kills them) fails
  // its job.
  int max_worker_losses = 100;
  // Jobs queued or running at once per token; more are refused
  // (--max-jobs-per-token).
  int max_active_jobs_per_token = 1000;
  // An attempt is overdue once it has run this many times longer than its
  // job's measured chunk time predicts for its chunk...
  double straggler_factor = 3;
  // ... and at least this long (or, before any chunk of the job finished,
  // unmeasured_deadline). An idle slot elsewhere then runs a backup copy
  // of the chunk, at any point of the job; the first result wins.
  absl::Duration straggler_min_time = absl::Seconds(2);
  absl::Duration unmeasured_deadline = absl::Minutes(1);
  // A worker with this many overdue or timed-out attempts in a row gets no
  // chunks for quarantine_time, or until it finishes one in time
  // (--quarantine-after, --quarantine-time).
  int quarantine_after = 3;
  absl::Duration quarantine_time = absl::Minutes(1);
  // A job that no connected worker can run (its kernel or executor is
  // missing) fails after waiting this long (--queue-timeout).
  absl::Duration queue_timeout = absl::Minutes(10);
};

// Who may connect, and the bounds on what one caller may hold.
struct SecurityOptions {
  // TLS (--tls-cert, --tls-key, --tls-ca); plaintext when none is set.
  TlsFiles tls;
  // Workers must present a certificate signed by tls.ca
  // (--tls-verify-workers).
  bool require_worker_certificates = false;
  // The token table (--tokens; coordinator/service/tokens.h has its
  // format). Empty: no tokens, every caller may do everything, so the
  // coordinator listens on loopback only unless `insecure`.
  std::string tokens_file;
  // Listen beyond loopback without tokens (--insecure).
  bool insecure = false;
  // Failed authentications a host may make in a minute before it is
  // refused for the rest of it (--max-auth-failures).
  int max_auth_failures_per_minute = 20;
  // Session and WatchJob streams one token (or, without tokens, one host)
  // holds open at once (--max-streams-per-client).
  int max_streams_per_client = 256;
  // Largest message received or sent (--max-message-size).
  int64_t max_message_bytes = int64_t{64} << 20;
};

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (--listen). Empty:
  // in-process links and calls only (the embedded cluster).
  std::string listen = "127.0.0.1:7070";
  SchedulerOptions scheduling;
  SecurityOptions security;
  // Workers are told to send something at least this often: a quarter of
  // the heartbeat timeout, at most a second.
  absl::Duration heartbeat_interval() const {
    return std::min(absl::Seconds(1), scheduling.heartbeat_timeout / 4);
  }
  // Directory of the journal (created if missing): jobs and completed
  // chunks survive a restart there (--state-dir). Empty: nothing survives.
  std::string state_dir;
  // Start from a journal that does not add up (lost writes, a damaged
  // database, rows that overlap or leave a job's range) instead of refusing
  // to: what was lost is logged, jobs whose rows do not add up are failed
  // (--recover).
  bool recover = false;
  // Receives one line per event (workers joining and leaving, jobs
  // starting and ending, journal failures; attempts failing at debug
  // level); must outlive the server. nullptr means silence.
  const Logger* logger = nullptr;
  // The clock the coordinator reads; nullptr means the system's. Tests pass
  // a FakeClock and move time themselves.
  Clock* clock = nullptr;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_OPTIONS_H_
