#include "pfor/common/blocking.h"

namespace pfor {
namespace {

thread_local BlockingObserver* t_observer = nullptr;
// Scopes open on this thread: only the outermost one reports.
thread_local int t_depth = 0;

}  // namespace

void SetBlockingObserver(BlockingObserver* observer) { t_observer = observer; }

BlockingScope::BlockingScope()
    : observer_(t_depth++ == 0 ? t_observer : nullptr) {
  if (observer_ != nullptr) observer_->WillBlock();
}

BlockingScope::~BlockingScope() {
  --t_depth;
  if (observer_ != nullptr) observer_->Unblocked();
}

}  // namespace pfor
