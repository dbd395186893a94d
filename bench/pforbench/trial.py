"""c.: the Python documents' example, primes in [1, N) by trial division in
per-process chunks, in Python's pools against `pfor run
count_primes_trial`."""

import multiprocessing
import sys

from .harness import (PRIME_PI, Comparison, Tool, check_exact, fmt_count,
                      joblib, measure, parse_int, run_command)
from .workloads import count_primes_in, ppe_sum, split


def trial_chunks(ctx):
    """c.'s per-process chunks, which e. runs on Dask too."""
    return split(1, ctx.trial_n, ctx.procs)


def compare(ctx):
    procs, trial_n, timeout = ctx.procs, ctx.trial_n, ctx.timeout
    trial_text = fmt_count(trial_n)
    chunks = trial_chunks(ctx)
    balanced_chunks = split(1, trial_n, procs * 16)

    def mp_pool(parts):
        with multiprocessing.Pool(procs) as pool:
            return sum(pool.map(count_primes_in, parts))

    def process_pool():
        return ppe_sum(procs, count_primes_in, chunks)

    def joblib_trial():
        return sum(joblib.Parallel(n_jobs=procs)(
            joblib.delayed(count_primes_in)(c) for c in chunks))

    tools = [
        Tool("pfor-run", f"pfor run count_primes_trial --range "
             f"1:{trial_text}",
             lambda: parse_int(run_command(
                 [ctx.pfor, "run", "count_primes_trial", "--range",
                  f"1:{trial_n}", *ctx.threads, "--no-progress"], timeout),
                 "pfor run"), ctx.no_pfor),
        Tool("mp-pool", f"multiprocessing.Pool({procs}).map, "
             f"{len(chunks)} chunks", lambda: mp_pool(chunks),
             in_process=True),
        Tool("ppe", f"ProcessPoolExecutor({procs}).map, "
             f"{len(chunks)} chunks", process_pool, in_process=True),
        Tool("joblib", f"joblib.Parallel(n_jobs={procs}), "
             f"{len(chunks)} chunks", joblib_trial, ctx.no_joblib,
             in_process=True),
        Tool("mp-pool-16", f"multiprocessing.Pool({procs}).map, "
             f"{len(balanced_chunks)} chunks",
             lambda: mp_pool(balanced_chunks), in_process=True),
    ]
    print(f"c. trial division over [1, {trial_text})", file=sys.stderr)
    measure("c", tools, ctx.repeat, timeout)
    return [Comparison(
        "c", f"Primes in [1, {trial_text}) by trial division (the Python "
        "documents' example)", tools[0], tools[1:],
        check_exact(PRIME_PI.get(trial_n)),
        ["Python times include creating the pool (as `with Pool(...)` "
         "does) but not the interpreter start; pfor's include its "
         "process and embedded cluster start.",
         "joblib's loky workers are reused between calls (its normal "
         "behaviour), so only its first round pays for their start.",
         f"Equal-size per-process chunks are unequal work (higher numbers "
         f"cost more), so the last chunk finishes late; the "
         f"{len(balanced_chunks)}-chunk row shows Python with that "
         f"imbalance removed. pfor sizes its chunks itself (auto)."])]
