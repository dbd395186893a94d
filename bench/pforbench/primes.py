"""a. and b.: the prime count to N by segmented sieve, `pfor run` (embedded)
and `pfor submit` (coordinator + workers on loopback) against primesieve."""

import sys

from .harness import (PRIME_PI, Comparison, Tool, check_exact, fmt_count,
                      measure, parse_int, run_command)


def compare(ctx):
    """a. and b. share their rounds, so b.'s ratios compare like with like."""
    primes_n, procs, timeout = ctx.primes_n, ctx.procs, ctx.timeout
    primes_text = fmt_count(primes_n)
    run_primes = Tool(
        "pfor-run", f"pfor run count_primes --range 1:{primes_text}",
        lambda: parse_int(run_command(
            [ctx.pfor, "run", "count_primes", "--range", f"1:{primes_n}",
             *ctx.threads, "--no-progress"], timeout), "pfor run"),
        ctx.no_pfor)
    sieve = Tool(
        "primesieve", f"primesieve {primes_text} -t{procs}",
        lambda: parse_int(run_command(
            [ctx.primesieve, str(primes_n), f"-t{procs}", "-q"], timeout),
            "primesieve"),
        None if ctx.primesieve else "primesieve not installed")
    submit_primes = Tool(
        "pfor-submit", f"pfor submit count_primes ({procs} workers)",
        lambda: parse_int(run_command(
            ctx.submit("count_primes", "--range", f"1:{primes_n}"), timeout),
            "pfor submit"),
        ctx.cluster_problem if "b" in ctx.only else "not selected",
        prepare=ctx.cluster_up)
    print(f"a./b. prime count to {primes_text}", file=sys.stderr)
    measure("a/b", [run_primes, sieve, submit_primes], ctx.repeat, timeout)
    expected = PRIME_PI.get(primes_n)
    check = check_exact(expected)
    comparisons = []
    if "a" in ctx.only:
        comparisons.append(Comparison(
            "a", f"Prime count 1..{primes_text}, segmented sieve "
            f"(exact; pi = {expected or '?'})",
            run_primes, [sieve], check,
            ["Wall time of the whole command: process start, embedded "
             "cluster start (pfor) and exit included for both."]))
    if "b" in ctx.only:
        comparisons.append(Comparison(
            "b", f"Same count through pfor-coordinator + {procs} "
            "one-thread workers on loopback",
            submit_primes, [run_primes, sieve], check,
            ["Coordinator and workers started once before timing; the "
             "time is `pfor submit --wait` (CLI start, submit, "
             "dispatch over gRPC, result)."]))
    return comparisons
