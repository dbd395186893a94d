// The command executor: an external program per chunk, any language.
//
// The job's Command gives the program and its arguments; {begin}, {end}
// and {chunk} are replaced in each, and PFOR_BEGIN, PFOR_END, PFOR_CHUNK and
// PFOR_JOB are set in its environment, which otherwise holds only the
// worker's variables named in the allow-list (never, say, its token). No
// shell runs unless the job asks for
// one. Standard output is the chunk's value (an integer, a float or a JSON
// number, per the job); a non-zero exit, a signal, unparsable output or a
// timeout fails the chunk with the tail of standard error.
#ifndef PFOR_WORKER_COMMAND_RUNNER_H_
#define PFOR_WORKER_COMMAND_RUNNER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pfor/job.h"
#include "pfor/value.h"
#include "slot_pool.h"

namespace pfor::worker {

// Runs commands that inherit the worker's variables named in `environment`
// and no others.
std::unique_ptr<ChunkRunner> NewCommandRunner(
    std::vector<std::string> environment);

// Reads a command's standard output as the chunk value. INVALID_ARGUMENT
// quotes (the start of) the text and says what was expected.
absl::StatusOr<Value> ParseCommandOutput(const std::string& text,
                                         Command::Output output);

}  // namespace pfor::worker

#endif  // PFOR_WORKER_COMMAND_RUNNER_H_
