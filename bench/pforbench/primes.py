"""a. and b.: the prime count to N by segmented sieve, `pfor run` (embedded)
and `pfor submit` (coordinator + workers on loopback) against primesieve."""

import sys

from .harness import (PRIME_PI, Comparison, Tool, check_exact, fmt_count,
                      measure, parse_int, run_command)


def compare(ctx):
    """a. and b. share their rounds, so b.'s ratios compare like with like."""
    return sieve(ctx, ctx.primes_n, "a" in ctx.only, "b" in ctx.only,
                 ("a", "b"))


def sieve(ctx, primes_n, embedded, through_coordinator, ids):
    """The count to `primes_n` embedded and through the coordinator (each
    compared when asked for), against primesieve; `ids` name the two
    comparisons."""
    procs, timeout = ctx.procs, ctx.timeout
    primes_text = fmt_count(primes_n)
    run_primes = Tool(
        "pfor-run", f"pfor run count_primes --range 1:{primes_text}",
        lambda: parse_int(run_command(
            [ctx.pfor, "run", "count_primes", "--range", f"1:{primes_n}",
             *ctx.threads, "--no-progress"], timeout), "pfor run"),
        ctx.no_pfor)
    primesieve_tool = Tool(
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
        ctx.cluster_problem if through_coordinator else "not selected",
        prepare=ctx.cluster_up)
    print(f"{ids[0]}./{ids[1]}. prime count to {primes_text}",
          file=sys.stderr)
    measure("/".join(ids), [run_primes, primesieve_tool, submit_primes],
            ctx.repeat, timeout)
    expected = PRIME_PI.get(primes_n)
    check = check_exact(expected)
    comparisons = []
    if embedded:
        comparisons.append(Comparison(
            ids[0], f"Prime count 1..{primes_text}, segmented sieve "
            f"(exact; pi = {expected or '?'})",
            run_primes, [primesieve_tool], check,
            ["Wall time of the whole command: process start, embedded "
             "cluster start (pfor) and exit included for both."]))
    if through_coordinator:
        comparisons.append(Comparison(
            ids[1], f"Same count through pfor-coordinator + {procs} "
            "one-thread workers on loopback",
            submit_primes, [run_primes, primesieve_tool], check,
            ["Coordinator and workers started once before timing; the "
             "time is `pfor submit --wait` (CLI start, submit, "
             "dispatch over gRPC, result)."]))
    return comparisons
