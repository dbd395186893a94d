"""f1.: per-job overhead with a cluster started for the job: `pfor run noop`
against a Python pool started for one trivial task."""

import json
import multiprocessing
import sys

from .harness import (Comparison, Tool, check_none, measure, parse_int,
                      run_command)
from .workloads import noop, ppe_sum


def compare(ctx):
    procs, timeout = ctx.procs, ctx.timeout

    def mp_noop():
        with multiprocessing.Pool(procs) as pool:
            return sum(pool.map(noop, [0]))

    def ppe_noop():
        return ppe_sum(procs, noop, [0])

    tools = [
        Tool("pfor-run", "pfor run noop --range 0:1",
             lambda: parse_int(run_command(
                 [ctx.pfor, "run", "noop", "--range", "0:1", *ctx.threads,
                  "--no-progress"], timeout), "pfor run"), ctx.no_pfor),
        Tool("mp-pool", f"multiprocessing.Pool({procs}) + 1 task",
             mp_noop, in_process=True),
        Tool("ppe", f"ProcessPoolExecutor({procs}) + 1 task", ppe_noop,
             in_process=True),
        # Where pfor's time goes: the same start without a job.
        Tool("pfor-kernels", "(reference) pfor kernels: start, no job",
             lambda: len(json.loads(run_command(
                 [ctx.pfor, "kernels", "--json"], timeout))),
             ctx.no_pfor),
    ]
    print("f. per-job overhead, fresh cluster", file=sys.stderr)
    measure("f1", tools, ctx.noop_repeat, timeout)
    return [Comparison(
        "f1", "Per-job overhead, cluster started for the job: one "
        "trivial task", tools[0], tools[1:], check_none,
        ["pfor: process start + embedded coordinator and worker + one "
         "chunk + exit. Python: pool start + one task + pool shutdown, "
         "inside a running interpreter (its own start, ~20 ms, is not "
         "counted)."])]
