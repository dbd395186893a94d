#include "journal.h"

#include "journal_state.h"

namespace pfor::coordinator {
namespace {

class MemoryJournal final : public Journal {
 public:
  explicit MemoryJournal(int keep_ended) : state_(keep_ended) {}
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

std::unique_ptr<Journal> NewMemoryJournal(int keep_ended) {
  return std::make_unique<MemoryJournal>(keep_ended);
}

}  // namespace pfor::coordinator
