#include "journal.h"

#include "journal_state.h"

namespace pfor::coordinator {
namespace {

class MemoryJournal final : public Journal {
 public:
  explicit MemoryJournal(int keep_jobs) : state_(keep_jobs) {}
  absl::Status Write(const std::vector<JournalEntry>& entries) override {
    Changes changes;
    return state_.Apply(entries, changes);
  }
  absl::StatusOr<std::vector<RecoveredJob>> Load() override {
    return state_.Snapshot();
  }

 private:
  JournalState state_;
};

}  // namespace

std::unique_ptr<Journal> NewMemoryJournal(int keep_jobs) {
  return std::make_unique<MemoryJournal>(keep_jobs);
}

}  // namespace pfor::coordinator
