// The client-facing Coordinator service: submit, inspect and cancel jobs,
// list workers and kernels (unary calls), follow one job (WatchJob), and
// the session stream the SDK and the CLI use to submit and follow many.
#ifndef PFOR_COORDINATOR_COORDINATOR_SERVICE_H_
#define PFOR_COORDINATOR_COORDINATOR_SERVICE_H_

#include "auth.h"
#include "pfor/v1/coordinator.grpc.pb.h"
#include "scheduler_host.h"

namespace pfor::coordinator {

class CoordinatorService final : public v1::Coordinator::CallbackService {
 public:
  // `host` and `auth` must outlive the service and every call it serves.
  // Every call passes `auth` first: listing and submitting need the submit
  // role (or admin), command jobs the commands role too; a job is seen,
  // followed and cancelled only by the token that submitted it or an admin.
  CoordinatorService(SchedulerHost* host, Authenticator* auth)
      : host_(host), auth_(auth) {}

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* context,
                                      const v1::SubmitJobRequest* request,
                                      v1::SubmitJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::Job* response) override;
  grpc::ServerWriteReactor<v1::Job>* WatchJob(
      grpc::CallbackServerContext* context,
      const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* ListWorkers(
      grpc::CallbackServerContext* context,
      const v1::ListWorkersRequest* request,
      v1::ListWorkersResponse* response) override;
  grpc::ServerUnaryReactor* ListKernels(
      grpc::CallbackServerContext* context,
      const v1::ListKernelsRequest* request,
      v1::ListKernelsResponse* response) override;
  grpc::ServerBidiReactor<v1::SessionRequest, v1::SessionEvents>* Session(
      grpc::CallbackServerContext* context) override;

 private:
  // The job (a batch's with the task results of `tasks`), if `caller` may
  // see it; PERMISSION_DENIED otherwise.
  absl::StatusOr<JobStatus> Visible(const Caller& caller, uint64_t job,
                                    bool with_recent_chunks, TaskPage tasks);

  SchedulerHost* host_;
  Authenticator* auth_;
};

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_COORDINATOR_SERVICE_H_
