"""g.: per-chunk overhead of pfor's three executors (threads, processes,
command) on the running coordinator + workers, next to Python's
ThreadPoolExecutor and ProcessPoolExecutor running trivial tasks."""

import concurrent.futures
import sys

from .harness import (Comparison, Tool, ToolError, check_each, fmt_count,
                      measure, parse_int, run_command)
from .workloads import noop

# g.: chunks or tasks per timed run, chosen so that each run takes about
# 0.4 - 3 s on a 2-core VM (--quick: a tenth). There pfor's threads executor
# costs about 2 us of wall time per chunk, its processes executor some 35 us,
# the command executor about 0.7 ms (a process spawn per chunk); Python's
# thread pool 15 - 55 us per task, its process pool 95 - 215 us.
CHUNK_JOBS = {
    "threads": 200_000,
    "processes": 20_000,
    "command": 2_000,
    "thread-submit": 20_000,
    "thread-map": 100_000,
    "process-submit": 10_000,
    "process-map": 20_000,
    # h.: pfor's submit().result() costs 10 - 500 us, map 0.2 - 2 us a task.
    "sdk-submit": 2_000,
    "sdk-map": 100_000,
}


def stop_pool(executor, abort):
    """Shuts a concurrent.futures pool down; with `abort` (a task timed out)
    without waiting, and its processes are terminated."""
    if not abort:
        executor.shutdown(wait=True)
        return
    for process in list((getattr(executor, "_processes", None) or {})
                        .values()):
        process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


class WarmPools:
    """Python's ThreadPoolExecutor and ProcessPoolExecutor of `procs`,
    started and warmed before the rounds and reused by them, as a program
    calling them in a loop would; their Tools run trivial tasks."""

    def __init__(self, procs):
        self.procs = procs
        self.thread_pool = concurrent.futures.ThreadPoolExecutor(procs)
        self.process_pool = concurrent.futures.ProcessPoolExecutor(procs)
        self._tools = []
        try:
            for pool in (self.thread_pool, self.process_pool):
                sum(pool.map(noop, [0] * (4 * procs)))
        except BaseException:
            self.close()
            raise

    def tools(self, sizes, keys):
        """Tools for `keys` among thread-submit, thread-map, process-submit
        and process-map, each over sizes[key] tasks."""
        def one_at_a_time(pool, m):
            return lambda: sum(pool.submit(noop, 0).result()
                               for _ in range(m))

        def mapped(pool, m):
            return lambda: sum(pool.map(noop, [0] * m))

        made = []
        for key in keys:
            kind, shape = key.split("-")
            pool = self.thread_pool if kind == "thread" else self.process_pool
            name = (f"{'Thread' if kind == 'thread' else 'Process'}"
                    f"PoolExecutor({self.procs})")
            m = sizes[key]
            if shape == "submit":
                label = (f"{name}: submit().result() per task, "
                         f"{fmt_count(m)} tasks")
                fn = one_at_a_time(pool, m)
            else:
                label = f"{name}.map, {fmt_count(m)} tasks"
                fn = mapped(pool, m)
            made.append(Tool(key, label, fn, in_process=True, units=m))
        self._tools += made
        return made

    def close(self):
        """Shuts both down; without waiting when a task failed."""
        failed = any(t.error for t in self._tools)
        stop_pool(self.thread_pool, failed)
        stop_pool(self.process_pool, failed)


def executor_overhead(cluster_problem, submit, cluster_up, procs, repeat,
                      timeout, sizes):
    """g.: wall time per one-index chunk of pfor's three executors on the
    running cluster, next to Python's pools running trivial tasks."""
    # The threads row is the dispatch rate of the coordinator: sleep with
    # us=0 has value 1 per index, so its sum also proves every chunk was
    # counted once.
    jobs = {"threads": ["sleep", "--param", "us=0"], "processes": ["noop"],
            "command": ["--command", "echo 0"]}

    def pfor_job(executor, n):
        return lambda: parse_int(run_command(
            submit(*jobs[executor], "--range", f"0:{n}", "--chunks",
                   "fixed:1", "--executor", executor), timeout),
            "pfor submit")

    n = sizes
    pfor_tools = [
        Tool("threads", f"pfor submit sleep --param us=0 --executor threads, "
             f"{fmt_count(n['threads'])} chunks",
             pfor_job("threads", n["threads"]), cluster_problem,
             prepare=cluster_up, units=n["threads"]),
        Tool("processes", f"pfor submit noop --executor processes, "
             f"{fmt_count(n['processes'])} chunks",
             pfor_job("processes", n["processes"]), cluster_problem,
             prepare=cluster_up, units=n["processes"]),
        Tool("command", f"pfor submit --command 'echo 0', "
             f"{fmt_count(n['command'])} chunks",
             pfor_job("command", n["command"]), cluster_problem,
             prepare=cluster_up, units=n["command"]),
    ]
    # One small untimed job per executor: the helpers start (the rounds then
    # time warm helpers, as a long-running worker has them), and an executor
    # the workers do not offer is skipped with the reason.
    for tool in pfor_tools:
        if not tool.usable:
            continue
        try:
            cluster_up()
            value = pfor_job(tool.key, 2 * procs)()
            want = 2 * procs if tool.key == "threads" else 0
            if value != want:
                raise ToolError(f"printed {value}, expected {want}")
        except ToolError as e:
            tool.unavailable = f"warm-up job failed: {e}"
            print(f"  [g] {tool.label}: {tool.unavailable}", file=sys.stderr)

    pools = WarmPools(procs)
    try:
        python_tools = pools.tools(n, ["thread-submit", "thread-map",
                                       "process-submit", "process-map"])
        print("g. per-chunk overhead of the executors, running cluster",
              file=sys.stderr)
        measure("g", pfor_tools + python_tools, repeat, timeout)
    finally:
        pools.close()

    return Comparison(
        "g", f"Per-chunk overhead of pfor's executors: one-index chunks on "
        f"the running coordinator + {procs} workers (one slot of each "
        f"executor per worker); Python's pools per task", pfor_tools[0],
        pfor_tools[1:] + python_tools, check_each({"threads": n["threads"]}),
        ["per chunk = median wall time / chunks (or tasks); ratio = the "
         "threads row's per-chunk median / the row's. pfor's chunks and "
         "map's tasks run on all workers at once, so theirs is wall time per "
         f"chunk at full throughput (each slot spends about {procs} times as "
         "long on one); submit().result() has one task in flight, so its "
         "time is a whole round trip.",
         "pfor, every row: the coordinator hands the chunk to a worker over "
         "its gRPC stream, the worker runs it and sends the result back "
         "(with a credit for the next); `pfor submit --wait` itself (CLI "
         "start, ~20 ms, see f2) is spread over all the chunks.",
         "threads: + a call of the kernel on the worker's thread. "
         "processes: + a round trip over pipes to the slot's warm "
         "pfor-helper (started by an untimed warm-up job). command: + "
         "spawning `echo` (/bin/echo, no shell) per chunk: posix_spawn, "
         "exec, reading its output, waiting for its exit.",
         "Python: in this interpreter (no interpreter start), pools created "
         "and warmed before the rounds. submit().result() per task keeps "
         "one task in flight (a round trip through the pool's queue and a "
         "worker); map queues them all (chunksize 1). The process pool also "
         "pickles each task and result and sends them over pipes."])


def compare(ctx):
    return [executor_overhead(ctx.cluster_problem, ctx.submit, ctx.cluster_up,
                              ctx.procs, ctx.repeat, ctx.timeout,
                              ctx.chunk_jobs)]
