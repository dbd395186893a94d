"""e. and f2.: jobs on clusters started once beforehand, pfor's coordinator
+ workers against a Dask LocalCluster (and warm joblib workers): c.'s trial
division, and one trivial task."""

import json
import sys

from .harness import (PRIME_PI, Comparison, DaskCluster, Tool, check_exact,
                      check_none, fmt_count, joblib, measure, parse_int,
                      run_command)
from .trial import trial_chunks
from .workloads import count_primes_in, noop


def compare(ctx):
    """Dask starts only now, so that its idle processes do not disturb the
    comparisons before."""
    procs, timeout = ctx.procs, ctx.timeout
    comparisons = []
    dask = None
    no_dask = ctx.no_dask
    if no_dask is None:
        print(f"starting Dask LocalCluster({procs} workers x 1 thread)",
              file=sys.stderr, flush=True)
        dask = DaskCluster(procs)
        try:
            dask.start()
        except Exception as e:
            no_dask = f"Dask LocalCluster did not start: {e}"
            ctx.notes.append(no_dask)
            dask.stop()
            dask = None
    try:
        if "e" in ctx.only:
            comparisons.append(_trial(ctx, dask, no_dask))
        if "f" in ctx.only:
            comparisons.append(_noop(ctx, dask, no_dask))
    finally:
        if dask is not None:
            dask.stop()
    return comparisons


def _trial(ctx, dask, no_dask):
    trial_text = fmt_count(ctx.trial_n)
    chunks = trial_chunks(ctx)

    def dask_trial():
        futures = dask.client.map(count_primes_in, chunks, pure=False)
        return sum(dask.client.gather(futures))

    tools = [
        Tool("pfor-submit", f"pfor submit count_primes_trial "
             f"({ctx.procs} workers)",
             lambda: parse_int(run_command(
                 ctx.submit("count_primes_trial", "--range",
                            f"1:{ctx.trial_n}"), ctx.timeout),
                 "pfor submit"), ctx.cluster_problem,
             prepare=ctx.cluster_up),
        Tool("dask", f"Dask client.map, {len(chunks)} chunks",
             dask_trial, no_dask, in_process=True),
    ]
    print(f"e. trial division over [1, {trial_text}) on running "
          "clusters", file=sys.stderr)
    measure("e", tools, ctx.repeat, ctx.timeout)
    return Comparison(
        "e", f"Primes in [1, {trial_text}) on running clusters: "
        f"pfor coordinator + {ctx.procs} workers vs Dask LocalCluster",
        tools[0], tools[1:], check_exact(PRIME_PI.get(ctx.trial_n)),
        ["Cluster start-up excluded for both: each cluster is "
         "started once and only the job is timed (pfor's time "
         "still includes starting the `pfor` CLI process).",
         "Dask runs the same per-process chunks as c."])


def _noop(ctx, dask, no_dask):
    def dask_noop():
        return dask.client.submit(noop, 0, pure=False).result()

    def joblib_noop():
        return sum(joblib.Parallel(n_jobs=ctx.procs)(
            joblib.delayed(noop)(0) for _ in range(1)))

    tools = [
        Tool("pfor-submit", "pfor submit noop --range 0:1 --wait",
             lambda: parse_int(run_command(
                 ctx.submit("noop", "--range", "0:1"), ctx.timeout),
                 "pfor submit"), ctx.cluster_problem,
             prepare=ctx.cluster_up),
        Tool("dask", "Dask client.submit(noop).result()",
             dask_noop, no_dask, in_process=True),
        Tool("joblib", f"joblib.Parallel(n_jobs={ctx.procs}), 1 task "
             "(warm workers)", joblib_noop, ctx.no_joblib,
             in_process=True),
        # Where pfor's time goes: CLI start and one call.
        Tool("pfor-workers", "(reference) pfor workers: CLI "
             "start + 1 call, no job",
             lambda: len(json.loads(run_command(
                 [ctx.pfor, "workers", "--coordinator",
                  ctx.cluster.address, "--json"], ctx.timeout))),
             ctx.cluster_problem, prepare=ctx.cluster_up),
    ]
    print("f. per-job overhead, running cluster", file=sys.stderr)
    measure("f2", tools, ctx.noop_repeat, ctx.timeout)
    return Comparison(
        "f2", "Per-job overhead on a running cluster: one trivial "
        "task", tools[0], tools[1:], check_none,
        ["pfor: `pfor submit --wait` = CLI process start, "
         "connect, submit, one chunk on a worker, result. Dask "
         "and joblib: one task from this running interpreter."])
