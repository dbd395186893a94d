#!/usr/bin/env python3
"""Compares `pfor run integrate` with a C++ OpenMP loop, integrand by integrand.

For each named integrand (cos, sin, exp, x^2, 4/(1+x^2)) it runs, as whole
processes on this machine:

  pfor      `pfor run integrate --points N` on its embedded cluster (every
            core, nothing started beforehand);
  openmp    bench/integrate_openmp.cc, the midpoint rule as an OpenMP
            `parallel for reduction` loop built with -O3 -march=native
            -ffast-math -fopenmp (vectorised libmvec cos, sin and exp).

Every round runs every (integrand, tool) pair once, in an order rotated from
round to round, so that noise on a shared machine hits both tools alike. The
table gives medians over the rounds (min - max beside them), nanoseconds per
point (wall time / N: both cores together), and pfor / openmp: below 1 means
pfor is faster. Quote medians and ratios, never one run.

  wall     the whole process, start to exit, as a user sees it: pfor's
           includes its start (about 20 ms: loading its shared libraries)
           and its embedded cluster's;
  compute  what each tool reports for the work itself: the OpenMP loop's own
           clock, and pfor's job time (submit to end, from --json).

Each result is checked against the integral's known value (to 1e-6, as the
midpoint rule with N >= 1e6 gives) and the two tools against each other;
a mismatch is printed and makes the exit status 1.

The baseline is compiled on first use into BUILD/bench/integrate_openmp (g++,
or $CXX), and again whenever its source is newer.

Usage: python3 bench/integrate_compare.py --build build [--rounds 5]
           [--points 1e9] [--threads P] [--only cos,exp] [--json out.json]
"""

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time

from pforbench import baselines

HERE = os.path.dirname(os.path.abspath(__file__))

# Integrand, interval as pfor reads it, the same as numbers, exact integral.
INTEGRANDS = [
    ("cos", "0", "pi/2", 0.0, math.pi / 2, 1.0),
    ("sin", "0", "pi", 0.0, math.pi, 2.0),
    ("exp", "0", "1", 0.0, 1.0, math.e - 1),
    ("x^2", "0", "1", 0.0, 1.0, 1 / 3),
    ("4/(1+x^2)", "0", "1", 0.0, 1.0, math.pi),
]
TOOLS = ("pfor", "openmp")
TOLERANCE = 1e-6


class ToolError(Exception):
    pass


def run(argv, timeout, env=None):
    """Runs argv in a process group of its own (in this session, so that it
    shares CPU with this script's other children as they all do); returns
    (stdout, wall seconds). Kills the group on timeout."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=env, process_group=0)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ToolError(f"{' '.join(argv)}: no result after {timeout:.0f} s")
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = " | ".join(err.strip().splitlines()[-3:])
        raise ToolError(f"{' '.join(argv)} exited with {proc.returncode}: "
                        f"{tail}")
    return out, wall


def seconds_of(timestamp):
    """Seconds since midnight of an RFC 3339 time such as
    2026-11-29T10:29:14.300670712+00:00 (nanoseconds, which Python's
    datetime does not read)."""
    m = re.match(r"\d{4}-\d\d-\d\dT(\d\d):(\d\d):(\d\d)(\.\d+)?", timestamp)
    if not m:
        raise ToolError(f"pfor: unreadable time {timestamp!r}")
    hours, minutes, secs, fraction = m.groups()
    return (int(hours) * 3600 + int(minutes) * 60 + int(secs)
            + float(fraction or 0))


def run_pfor(args, integrand, a, b):
    out, wall = run([args.pfor, "--json", "run", "integrate",
                     "--param", f"integrand={integrand}",
                     "--param", f"a={a}", "--param", f"b={b}",
                     "--points", args.points, "--threads", str(args.threads),
                     "--no-progress"], args.timeout)
    try:
        job = json.loads(out)
        result = float(job["result"])
        compute = seconds_of(job["end_time"]) - seconds_of(job["submit_time"])
    except (ValueError, KeyError, TypeError) as e:
        raise ToolError(f"pfor: unexpected output ({e}): {out[:200]!r}")
    return result, wall, compute % 86400  # a job across midnight


def run_openmp(args, integrand, a, b):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out, wall = run([args.openmp, integrand, repr(a), repr(b), args.points],
                    args.timeout, env)
    try:
        result, compute = (float(v) for v in out.split())
    except ValueError:
        raise ToolError(f"integrate_openmp: unexpected output {out!r}")
    return result, wall, compute


def measure(args, integrands):
    """{(integrand, tool): [(result, wall, compute), ...]}, rounds
    interleaved and their order rotated."""
    runners = {"pfor": run_pfor, "openmp": run_openmp}
    pairs = [(i, tool) for i in integrands for tool in TOOLS]
    samples = {pair: [] for pair in pairs}
    for r in range(args.rounds):
        shift = (r * 3) % len(pairs)  # rotates which tool goes first, too
        line = []
        for (integrand, tool) in pairs[shift:] + pairs[:shift]:
            name, a_text, b_text, a, b, _ = integrand
            pfor_args = (a_text, b_text) if tool == "pfor" else (a, b)
            sample = runners[tool](args, name, *pfor_args)
            samples[(integrand, tool)].append(sample)
            line.append(f"{name} {tool} {sample[1]:.3f}s")
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(line),
              file=sys.stderr, flush=True)
    return samples


def summarize(args, integrands, samples):
    points = float(args.points)
    rows = []
    failed = False
    for integrand in integrands:
        name, exact = integrand[0], integrand[5]
        row = {"integrand": name, "exact": exact}
        for tool in TOOLS:
            results, walls, computes = zip(*samples[(integrand, tool)])
            row[tool] = {
                "results": sorted(set(results)),
                "wall_median": statistics.median(walls),
                "wall_min": min(walls),
                "wall_max": max(walls),
                "compute_median": statistics.median(computes),
                "ns_per_point": statistics.median(walls) / points * 1e9,
            }
            for value in set(results):
                if abs(value - exact) > TOLERANCE:
                    print(f"!! RESULT MISMATCH: {tool} {name} gave {value!r}, "
                          f"expected {exact!r}", file=sys.stderr)
                    failed = True
        if len(row["pfor"]["results"]) != 1:
            print(f"!! pfor {name} gave different results across rounds: "
                  f"{row['pfor']['results']}", file=sys.stderr)
            failed = True
        row["ratio_wall"] = (row["pfor"]["wall_median"]
                             / row["openmp"]["wall_median"])
        row["ratio_compute"] = (row["pfor"]["compute_median"]
                                / row["openmp"]["compute_median"])
        rows.append(row)
    return rows, failed


def print_table(args, rows):
    print(f"\nintegrate, N = {args.points} points, {args.threads} threads, "
          f"{args.rounds} rounds; medians (min - max); ns/point = wall / N")
    print("| integrand | pfor wall | openmp wall | pfor ns/pt | openmp ns/pt "
          "| pfor / openmp wall | pfor / openmp compute |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        p, o = row["pfor"], row["openmp"]
        print(f"| {row['integrand']} "
              f"| {p['wall_median']:.3f} s ({p['wall_min']:.3f} - "
              f"{p['wall_max']:.3f}) "
              f"| {o['wall_median']:.3f} s ({o['wall_min']:.3f} - "
              f"{o['wall_max']:.3f}) "
              f"| {p['ns_per_point']:.3f} | {o['ns_per_point']:.3f} "
              f"| {row['ratio_wall']:.2f} | {row['ratio_compute']:.2f} |")
    print("\nresults: " + "; ".join(
        f"{row['integrand']} pfor {row['pfor']['results'][0]!r} "
        f"openmp {row['openmp']['results'][0]!r}" for row in rows))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"),
                        help="build directory holding sdk/pfor")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds, at least 5 (default 5)")
    parser.add_argument("--points", default="1e9",
                        help="points per integral (default 1e9)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads for both tools (default: every core)")
    parser.add_argument("--only", default="",
                        help="comma-separated integrands (default: all)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds before a run is killed (default 300)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds must be at least 5: medians of fewer runs on "
                     "a shared machine mean little")
    if float(args.points) < 1e6:
        parser.error("--points must be at least 1e6 for the 1e-6 check")
    wanted = [w for w in args.only.split(",") if w]
    integrands = [i for i in INTEGRANDS if not wanted or i[0] in wanted]
    if not integrands:
        parser.error(f"--only: none of {wanted}; choose among "
                     + ", ".join(i[0] for i in INTEGRANDS))

    args.pfor = os.path.join(args.build, "sdk", "pfor")
    if not os.access(args.pfor, os.X_OK):
        sys.exit(f"no {args.pfor}: build it first (cmake --build "
                 f"{args.build} --target pfor)")
    args.openmp = baselines.build(
        args.build, "integrate_openmp",
        ["-O3", "-march=native", "-ffast-math", "-fopenmp"])

    load_before = os.getloadavg()
    try:
        samples = measure(args, integrands)
    except ToolError as e:
        sys.exit(f"integrate_compare: {e}")
    rows, failed = summarize(args, integrands, samples)
    print_table(args, rows)
    print(f"load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"points": args.points, "threads": args.threads,
                       "rounds": args.rounds, "load_before": load_before,
                       "load_after": os.getloadavg(), "rows": rows}, f,
                      indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
