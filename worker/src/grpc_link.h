// The worker link carried by gRPC: one WorkerLink.Connect stream per link,
// all on one channel to the coordinator (proto/pfor/v1/worker_link.proto).
//
// Messages are queued in their C++ form and encoded when their write starts,
// one write in flight, everything queued meanwhile merged into the next
// (pfor/common/merging_stream.h); CloseWrites half-closes once the queued
// messages are written. Each message read is decoded and handed to the
// handler in order, on a gRPC thread; one the worker cannot read ends the
// link with INVALID_ARGUMENT. OnClosed carries the stream's status.
//
// Lifetimes: gRPC 1.51 double-frees its callback queue when the last
// reference to a channel goes on one of its own threads. So a stream never
// drops itself there: when it ends it is handed to the opener, which drops
// it on the thread that opens the next link or destroys the opener; and the
// opener, which holds the channel, waits for its streams to end before it
// goes. Destroy the opener on the worker's own thread.
#ifndef PFOR_WORKER_GRPC_LINK_H_
#define PFOR_WORKER_GRPC_LINK_H_

#include <string>

#include "absl/status/statusor.h"
#include "pfor/common/credentials.h"
#include "pfor/common/link.h"

namespace pfor::worker {

struct GrpcLinkOptions {
  // A TCP connection of the opener's own. By default the channels of one
  // process to one address share a connection (gRPC's global subchannel
  // pool); a program that stands in for many workers wants one each.
  bool own_connection = false;
};

// Opens links to the coordinator at `address` (host:port), over TLS when
// `credentials` has TLS files, presenting its token. The channel is made
// here and dialled lazily: a coordinator out of reach (or a failed
// handshake) shows up as OnClosed with UNAVAILABLE and a message naming
// the fix. INVALID_ARGUMENT when a TLS file cannot be read. Keeps today's
// channel settings: 64 MiB messages, keepalive every 10 s (a vanished
// coordinator is noticed even when no chunk runs), reconnect attempts between
// 100 ms and 1 s (the worker's own backoff decides when to open another link).
// The opener is thread-safe; its links are too.
absl::StatusOr<WorkerLinkOpener> GrpcLinkOpener(
    const std::string& address, const Credentials& credentials,
    const GrpcLinkOptions& options = {});

}  // namespace pfor::worker

#endif  // PFOR_WORKER_GRPC_LINK_H_
