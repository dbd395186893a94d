// Stopping a fail-fast call's jobs at its first error.
#ifndef PFOR_SDK_BATCH_STOP_H_
#define PFOR_SDK_BATCH_STOP_H_

#include <memory>
#include <vector>

#include "pfor/batch.h"
#include "pfor/client.h"
#include "pfor/future.h"

namespace pfor::internal {

// Once `results` records its first error (or at once, if it has), stops
// every job of `jobs` (Future::terminate), on the client's callback thread:
// the error arrives on the thread that delivers the session's events,
// which must not call the coordinator. `client` must outlive the jobs.
void StopJobsOnFailure(Client& client, BatchCore& results,
                       std::vector<std::shared_ptr<FutureCore>> jobs);

}  // namespace pfor::internal

#endif  // PFOR_SDK_BATCH_STOP_H_
