// Jobs, workers and kernels as JSON: what `pfor --json` prints and what the
// coordinator's HTTP API (/api/v1/...) serves, field for field, so that a
// script written against one reads the other. docs/dashboard.md lists the
// fields.
#ifndef PFOR_COMMON_JSON_VIEWS_H_
#define PFOR_COMMON_JSON_VIEWS_H_

#include <string>

#include "nlohmann/json.hpp"
#include "pfor/cluster.h"
#include "pfor/job.h"
#include "pfor/value.h"

namespace pfor {

nlohmann::json ToJson(const JobStatus& job);
nlohmann::json ToJson(const WorkerStatus& worker);
nlohmann::json ToJson(const KernelInfo& kernel);
// An integer, or a double; the text of a non-finite double (JSON has
// neither inf nor nan).
nlohmann::json ValueJson(const Value& value);
// A chunk policy as --chunks takes it: "auto:100ms", "fixed:N", "count:N".
std::string ChunkPolicyText(const ChunkPolicy& policy);

}  // namespace pfor

#endif  // PFOR_COMMON_JSON_VIEWS_H_
