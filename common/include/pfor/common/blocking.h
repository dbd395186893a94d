// Telling a thread's owner that the thread is about to wait. A worker's slot
// thread runs a kernel, and a kernel of this process may call the SDK (a
// nested Parallel, a future's result) and wait there for chunks that only
// this worker's slots can run. The slot pool installs an observer on each
// of its threads; the SDK's waits report themselves with a BlockingScope,
// and the pool runs queued chunks on a stand-in thread while the slot
// waits, so that the chunks waited for can run at all.
//
// A thread without an observer pays one thread-local read per wait.
#ifndef PFOR_COMMON_BLOCKING_H_
#define PFOR_COMMON_BLOCKING_H_

namespace pfor {

// Hears the waits of the threads it is installed on. Its calls come on the
// waiting thread, with no lock of the SDK held; they must not wait
// themselves.
class BlockingObserver {
 public:
  virtual ~BlockingObserver() = default;
  // The thread is about to sleep until something else happens.
  virtual void WillBlock() = 0;
  // It woke up and goes on.
  virtual void Unblocked() = 0;
};

// Installs `observer` on the calling thread (nullptr removes it). The
// observer must outlive the thread's use of it.
void SetBlockingObserver(BlockingObserver* observer);

// Marks a wait: tells the calling thread's observer, if any, on
// construction and on destruction. Scopes on one thread may nest; only the
// outermost one is reported. Not movable.
class BlockingScope {
 public:
  BlockingScope();
  ~BlockingScope();
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  BlockingObserver* observer_;
};

}  // namespace pfor

#endif  // PFOR_COMMON_BLOCKING_H_
