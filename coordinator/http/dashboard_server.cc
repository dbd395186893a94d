#include "dashboard_server.h"

#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "assets.h"
#include "metrics_page.h"
#include "nlohmann/json.hpp"
#include "pfor/common/json_views.h"
#include "pfor/common/metrics_text.h"

namespace pfor::coordinator {
namespace {

constexpr char kJson[] = "application/json";
constexpr int kMaxListLimit = 10000;

int HttpCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void SendJson(httplib::Response& response, const nlohmann::json& body,
              int status = 200) {
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  // Kernel errors are arbitrary bytes: replaced where not UTF-8.
  response.set_content(
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      kJson);
}

void SendError(httplib::Response& response, const absl::Status& status) {
  SendJson(response, {{"error", std::string(status.message())}},
           HttpCode(status.code()));
}

// A query parameter as a number in [min, max]; `fallback` when absent.
absl::StatusOr<int64_t> NumberParam(const httplib::Request& request,
                                    const std::string& name, int64_t fallback,
                                    int64_t min, int64_t max) {
  if (!request.has_param(name.c_str())) return fallback;
  const std::string text = request.get_param_value(name.c_str());
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " '", text, "' is not a number from ", min, " to ",
                     max, "; pass ?", name, "=N"));
  }
  return value;
}

absl::StatusOr<uint64_t> JobIdOf(const httplib::Request& request) {
  uint64_t id = 0;
  if (!absl::SimpleAtoi(request.matches[1].str(), &id) || id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("job id '", request.matches[1].str(),
                     "' is not a job id; job ids are numbers from 1"));
  }
  return id;
}

nlohmann::json WorkerJson(const WorkerStatus& worker) {
  nlohmann::json out = ToJson(worker);
  out["busy_slots"] = BusySlots(worker);
  return out;
}

void AddRoutes(httplib::Server& http, ClusterView* view,
               CancelAuthorizer authorize_cancel) {
  http.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    response.set_content(kDashboardHtml, "text/html; charset=utf-8");
  });
  http.Get("/metrics", [view](const httplib::Request&,
                              httplib::Response& response) {
    response.set_content(MetricsPage(view->Stats()), MetricsText::kContentType);
  });
  http.Get("/api/v1/info",
           [allowed = authorize_cancel != nullptr](
               const httplib::Request&, httplib::Response& response) {
             SendJson(response, {{"cancel", allowed}});
           });
  http.Get("/api/v1/workers",
           [view](const httplib::Request&, httplib::Response& response) {
             nlohmann::json out = nlohmann::json::array();
             for (const WorkerStatus& worker : view->ListWorkers()) {
               out.push_back(WorkerJson(worker));
             }
             SendJson(response, out);
           });
  http.Get("/api/v1/jobs", [view](const httplib::Request& request,
                                  httplib::Response& response) {
    absl::StatusOr<int64_t> limit =
        NumberParam(request, "limit", 0, 0, kMaxListLimit);
    if (!limit.ok()) return SendError(response, limit.status());
    absl::StatusOr<std::vector<JobStatus>> jobs =
        view->ListJobs(static_cast<int>(*limit));
    if (!jobs.ok()) return SendError(response, jobs.status());
    nlohmann::json out = nlohmann::json::array();
    for (const JobStatus& job : *jobs) out.push_back(ToJson(job));
    SendJson(response, out);
  });
  http.Get(R"(/api/v1/jobs/([^/]+))", [view](const httplib::Request& request,
                                             httplib::Response& response) {
    absl::StatusOr<uint64_t> id = JobIdOf(request);
    if (!id.ok()) return SendError(response, id.status());
    // A batch's task results, a page at a time.
    absl::StatusOr<int64_t> tasks = NumberParam(
        request, "tasks", TaskPage::kDefaultCount, 0, TaskPage::kMaxCount);
    if (!tasks.ok()) return SendError(response, tasks.status());
    absl::StatusOr<int64_t> from =
        NumberParam(request, "from", 0, 0, std::numeric_limits<int64_t>::max());
    if (!from.ok()) return SendError(response, from.status());
    absl::StatusOr<JobStatus> job =
        view->GetJob(*id, {.first = *from, .count = *tasks});
    if (!job.ok()) return SendError(response, job.status());
    nlohmann::json out = ToJson(*job);
    if (job->state == JobState::kSucceeded && !job->spec->tasks.empty()) {
      out["task_count"] = job->spec->tasks.size();
    }
    SendJson(response, out);
  });
  http.Post(R"(/api/v1/jobs/([^/]+)/cancel)",
            [view, authorize_cancel](const httplib::Request& request,
                                     httplib::Response& response) {
              absl::StatusOr<uint64_t> id = JobIdOf(request);
              if (!id.ok()) return SendError(response, id.status());
              if (authorize_cancel == nullptr) {
                return SendError(
                    response,
                    absl::PermissionDeniedError(
                        "the dashboard is read-only; start the coordinator "
                        "with --http-allow-cancel to cancel jobs from it, or "
                        "run `pfor cancel ID`"));
              }
              if (absl::Status allowed = authorize_cancel(
                      request.get_header_value("Authorization"), *id);
                  !allowed.ok()) {
                return SendError(response, allowed);
              }
              absl::StatusOr<JobStatus> job = view->CancelJob(*id);
              if (!job.ok()) return SendError(response, job.status());
              SendJson(response, ToJson(*job));
            });
  // Anything else: a JSON error for the API, a plain one for the rest.
  http.set_error_handler([](const httplib::Request& request,
                            httplib::Response& response) {
    if (response.status != 404 || !response.body.empty()) return;
    SendJson(response,
             {{"error",
               absl::StrCat("no such page: ", request.method, " ", request.path,
                            "; the API is documented in "
                            "docs/dashboard.md")}},
             404);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> StartDashboard(
    const DashboardOptions& options, ClusterView* view) {
  return HttpServer::Start(options.listen, "--http-listen",
                           [&](httplib::Server& http) {
                             AddRoutes(http, view, options.authorize_cancel);
                           });
}

}  // namespace pfor::coordinator
