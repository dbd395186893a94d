// How a coordinator behaves: the settings of its scheduler and of its
// server, each with its one default (pfor-coordinator's flags start from
// these).
#ifndef PFOR_COORDINATOR_OPTIONS_H_
#define PFOR_COORDINATOR_OPTIONS_H_

#include <algorithm>
#include <functional>
#include <string>

#include "absl/time/time.h"

namespace pfor {
class Clock;
}  // namespace pfor

namespace pfor::coordinator {

struct SchedulerOptions {
  // A worker silent for this long is declared lost (--heartbeat-timeout).
  absl::Duration heartbeat_timeout = absl::Seconds(5);
  // Finished jobs kept for listings; older ones are forgotten (--keep-jobs).
  int keep_jobs = 1000;
  // Jobs queued or running at once; more are refused.
  int max_active_jobs = 10000;
  // A chunk whose worker is lost while running it is not at fault: that
  // does not count against the job's max_attempts. Only a chunk that was
  // running on this many lost workers (it may be what kills them) fails
  // its job.
  int max_worker_losses = 100;
  // Near the end of a job, an idle slot runs a backup copy of an in-flight
  // chunk that has run this many times longer than expected...
  double straggler_factor = 3;
  // ... and at least this long.
  absl::Duration straggler_min_time = absl::Seconds(2);
  // A job that no connected worker can run (its kernel or executor is
  // missing) fails after waiting this long (--queue-timeout).
  absl::Duration queue_timeout = absl::Minutes(10);
};

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (--listen). Empty:
  // in-process links and calls only (the embedded cluster).
  std::string listen = "127.0.0.1:7070";
  SchedulerOptions scheduling;
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
  // Receives one line per notable event (journal failures); nullptr means
  // silence.
  std::function<void(const std::string&)> log;
  // The clock the coordinator reads; nullptr means the system's. Tests pass
  // a FakeClock and move time themselves.
  Clock* clock = nullptr;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_OPTIONS_H_
