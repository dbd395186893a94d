"""The long jobs, minutes each (compare.py --only ij; bench/run --long):

  i. pi(10^11) by segmented sieve, embedded (i1) and through the coordinator
     + P one-thread workers (i2), against `primesieve 1e11 -tP`;
  j. trial division over [1, 10^8), whose cost grows along the range:
     `pfor run count_primes_trial --chunks auto` (embedded) and through the
     coordinator, against an OpenMP schedule(dynamic, 1000) build of the
     same loop (bench/trial_openmp.cc); with each slot's busy time: the CPU
     seconds of each one-thread worker over the job, of each OpenMP thread
     in its loop.
"""

import os
import statistics
import subprocess
import sys

from . import baselines
from .harness import (PRIME_PI, Comparison, Tool, ToolError, check_exact,
                      fmt_count, measure, parse_int, run_command)
from .primes import sieve


def compare_pi(ctx):
    return sieve(ctx, ctx.long_primes_n, True, True, ("i1", "i2"))


def cpu_seconds(pid):
    """utime + stime of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of the whole line; the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(busy):
    """(max - min) / max of busy times."""
    return (max(busy) - min(busy)) / max(busy) if busy and max(busy) else 0.0


def compare_trial(ctx):
    n, procs, timeout = ctx.long_trial_n, ctx.procs, ctx.timeout
    text = fmt_count(n)
    try:
        openmp = baselines.build(ctx.args.build, "trial_openmp",
                                 ["-O3", "-march=native", "-fopenmp"])
        no_openmp = None
    except (OSError, subprocess.CalledProcessError) as e:
        openmp, no_openmp = None, f"could not build trial_openmp: {e}"
    busy = {"pfor": [], "openmp": []}

    def run_openmp():
        out = run_command([openmp, str(n)], timeout,
                          env=dict(os.environ, OMP_NUM_THREADS=str(procs)))
        try:
            count, _, *threads = out.split()
            busy["openmp"].append([float(t) for t in threads])
            return int(count)
        except ValueError:
            raise ToolError(f"trial_openmp printed {out!r}")

    def workers():
        return [p for p, name in zip(ctx.cluster.procs, ctx.cluster.names)
                if name == "pfor-worker"]

    def run_submit():
        before = [cpu_seconds(p.pid) for p in workers()]
        value = parse_int(run_command(
            ctx.submit("count_primes_trial", "--range", f"1:{n}",
                       "--chunks", "auto"), timeout), "pfor submit")
        after = [cpu_seconds(p.pid) for p in workers()]
        busy["pfor"].append([b - a for a, b in zip(before, after)])
        return value

    tools = [
        Tool("pfor-run", f"pfor run count_primes_trial --range 1:{text} "
             "--chunks auto",
             lambda: parse_int(run_command(
                 [ctx.pfor, "run", "count_primes_trial", "--range",
                  f"1:{n}", "--chunks", "auto", *ctx.threads,
                  "--no-progress"], timeout), "pfor run"), ctx.no_pfor),
        Tool("openmp", f"OpenMP schedule(dynamic, 1000), {procs} threads",
             run_openmp, no_openmp),
        Tool("pfor-submit", f"pfor submit count_primes_trial ({procs} "
             "one-thread workers)", run_submit, ctx.cluster_problem,
             prepare=ctx.cluster_up),
    ]
    print(f"j. trial division over [1, {text})", file=sys.stderr)
    measure("j", tools, ctx.repeat, timeout)

    notes = ["OpenMP: bench/trial_openmp.cc, -O3 -march=native -fopenmp, "
             "the same divisors (2, then odd d while d <= n / d)."]
    for who, label in (("pfor", "pfor's workers (CPU seconds each)"),
                       ("openmp", "OpenMP's threads (CPU seconds each)")):
        if busy[who]:
            spreads = [spread(b) for b in busy[who]]
            median = statistics.median(spreads)
            last = " / ".join(f"{s:.2f}" for s in busy[who][-1])
            notes.append(f"slots' busy times, {label}: last round {last} s; "
                         f"spread (max - min) / max, median of rounds "
                         f"{median:.1%}")
    return [Comparison(
        "j", f"Primes in [1, {text}) by trial division (cost grows along "
        "the range)", tools[0], tools[1:], check_exact(PRIME_PI.get(n)),
        notes)]
