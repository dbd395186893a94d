"""h1. and h2.: the C++ SDK in a running program (bench/sdk_bench), its
round trip and map, embedded and through the coordinator, next to Python's
pools."""

import json
import sys

from .executors import WarmPools
from .harness import (Comparison, Tool, check_exact, fmt_count, measure,
                      run_command, unavailable_pfor)


def sdk_overhead(bins, cluster, cluster_problem, cluster_up, procs, repeat,
                 timeout, sizes):
    """h1., h2.: the SDK's round trip and map throughput, timed inside sdk_bench
    (its start and the embedded cluster's are left out), next to Python's
    pools in this interpreter."""
    no_bench = unavailable_pfor(bins, "sdk_bench")
    n = sizes

    def sdk(field, *args, remote=False):
        def run():
            argv = [bins["sdk_bench"], "--json", "--rounds", "1", *args]
            if remote:
                argv += ["--coordinator", cluster.address]
            report = json.loads(run_command(argv, timeout))
            return 0, report[field]
        return run

    submit_args = ["--calls", str(n["sdk-submit"]), "--map-tasks", "0"]
    map_args = ["--calls", "0", "--map-tasks", str(n["sdk-map"])]
    pfor_tools = [
        Tool("sdk-submit", f"pfor Executor submit().result(), embedded, "
             f"{fmt_count(n['sdk-submit'])} jobs",
             sdk("submit_result_total_s", *submit_args), no_bench,
             units=n["sdk-submit"], self_timed=True),
        Tool("sdk-submit-remote", f"pfor Executor submit().result(), "
             f"coordinator + {procs} workers, {fmt_count(n['sdk-submit'])} "
             "jobs", sdk("submit_result_total_s", *submit_args, remote=True),
             no_bench or cluster_problem, prepare=cluster_up,
             units=n["sdk-submit"], self_timed=True),
        Tool("sdk-map", f"pfor Executor.map, embedded, "
             f"{fmt_count(n['sdk-map'])} tasks",
             sdk("map_median_s", *map_args), no_bench, units=n["sdk-map"],
             self_timed=True),
        Tool("sdk-map-remote", f"pfor Executor.map, coordinator + {procs} "
             f"workers, {fmt_count(n['sdk-map'])} tasks",
             sdk("map_median_s", *map_args, remote=True),
             no_bench or cluster_problem, prepare=cluster_up,
             units=n["sdk-map"], self_timed=True),
    ]

    pools = WarmPools(procs)
    try:
        python_tools = pools.tools(n, ["thread-submit", "process-submit",
                                       "thread-map", "process-map"])
        print("h. the SDK's round trip and map", file=sys.stderr)
        measure("h", pfor_tools + python_tools, repeat, timeout)
    finally:
        pools.close()

    notes = ["per unit = median time / jobs (or tasks); ratio = the first "
             "row's per-unit median / the row's. pfor's times are measured "
             "inside bench/sdk_bench, after it connected (or started its "
             "embedded cluster) and ran 20 warm-up jobs; `sdk_bench --json` "
             "also gives percentiles."]
    submit_rows = [pfor_tools[1]] + python_tools[:2]
    map_rows = [pfor_tools[3]] + python_tools[2:]
    return [
        Comparison(
            "h1", "The C++ SDK's round trip: submit().result() of a "
            "one-chunk noop job, one in flight; Python's pools per task",
            pfor_tools[0], submit_rows, check_exact(0), notes + [
                "pfor: submit over gRPC, the coordinator hands the chunk to "
                "a worker, the result comes back over the client's follow "
                "stream. Python: one task through the pool's queue."]),
        Comparison(
            "h2", "The C++ SDK's map over trivial tasks (one batch job); "
            "Python's pools' map (chunksize 1)", pfor_tools[2], map_rows,
            check_exact(0), notes + [
                "pfor submits one job of one task per input; the chunk "
                "sizer groups tasks into chunks. Python queues every "
                "task."]),
    ]


def compare(ctx):
    return sdk_overhead(ctx.bins, ctx.cluster, ctx.cluster_problem,
                        ctx.cluster_up, ctx.procs, ctx.repeat, ctx.timeout,
                        ctx.chunk_jobs)
