#!/usr/bin/env python3
"""Compares pfor with the tools Python users reach for, in one run.

Every comparison runs on this machine in this run, each measurement repeated
(--repeat, default 5) with the tools interleaved in every round (and the
order rotated from round to round) so that noise from a shared machine hits
all of them alike. The table gives each tool's median wall time and the ratio
pfor / tool: below 1 means pfor is faster.

  a. prime count 1..1e10, segmented sieve: `pfor run count_primes` (embedded
     coordinator + worker) vs `primesieve -t P`;
  b. the same through a real coordinator and P one-thread workers on loopback
     (`pfor submit --wait`), against a. (embedded) and primesieve;
  c. the Python documents' example, primes in [1, N) by trial division split
     into per-process chunks: multiprocessing.Pool, ProcessPoolExecutor,
     joblib.Parallel vs `pfor run count_primes_trial`;
  d. cos integrated over [0, pi/2] by the midpoint rule in pure Python
     (joblib, multiprocessing; no numpy) vs `pfor run integrate`;
  e. Dask LocalCluster(P workers x 1 thread) running c.'s chunks vs pfor's
     coordinator with P one-thread workers, cluster start-up excluded for both;
  f. per-job overhead: `pfor run noop` and `pfor submit noop --wait`, next to
     the cost of one trivial task through each Python tool;
  g. per-chunk overhead of pfor's three executors (threads, processes,
     command) on the running coordinator + P workers, one-index chunks of
     `noop` and `echo 0`, next to ThreadPoolExecutor and ProcessPoolExecutor
     running trivial tasks (per task: submit().result() one at a time, map);
  h. the C++ SDK in a running program (bench/sdk_bench): a one-chunk noop job
     per Executor.submit().result(), embedded and through the coordinator on
     loopback, and Executor.map over noop tasks (one batch job), next to
     ThreadPoolExecutor and ProcessPoolExecutor doing the same with a
     trivial function.

Long jobs, minutes each, only when asked for (--only ij; bench/run --long):

  i. pi(1e11), embedded and through the coordinator, vs `primesieve -t P`;
  j. trial division over [1, 1e8): `pfor run` and `pfor submit` with
     --chunks auto vs an OpenMP schedule(dynamic, 1000) build, with the
     slots' busy times.

Each comparison is a module of bench/pforbench/. Only the Python standard
library is required; joblib and Dask comparisons are
skipped with a note when those modules do not import. Results are checked
(every tool must find the same count, integrals must agree to 1e-6): a
mismatch is reported and makes the exit status 1.

Usage: python3 bench/compare.py --build build [--repeat 5] [--json out.json]
       python3 bench/compare.py --build build --quick      (smoke run, < 1 min)
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import types

from pforbench import (executors, integration, long_jobs, primes,
                       running_clusters, sdk, startup, trial)
from pforbench.harness import (DEBIAN_PYTHON, REEXEC_ENV, REPO, PforCluster,
                               ToolError, _install_signal_handlers,
                               cleanup_children, distributed, find_binaries,
                               fmt_count, joblib, machine_facts, parse_count,
                               unavailable_pfor)
from pforbench.report import print_facts, print_table, write_json


# The problem sizes: flag, (what it sets, default, default with --quick).
SIZES = {
    "--primes-n": ("a./b.: count primes up to this", 10**10, 10**9),
    "--trial-n": ("c./e.: trial division over [1, N)", 3 * 10**6,
                  2 * 10**5),
    "--points": ("d.: integration points", 10**8, 2 * 10**6),
    "--long-primes-n": ("i.: count primes up to this", 10**11, 10**9),
    "--long-trial-n": ("j.: trial division over [1, N)", 10**8, 10**6),
}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Ratios are pfor / tool: below 1 means pfor is faster.")
    parser.add_argument("--build", default=os.path.join(REPO, "build"),
                        help="CMake build directory holding sdk/pfor, "
                        "coordinator/pfor-coordinator, worker/pfor-worker "
                        "(default: %(default)s)")
    parser.add_argument("--bin", help="directory holding pfor, "
                        "pfor-coordinator and pfor-worker (overrides --build)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds per comparison (default 5, --quick 1)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: small sizes, one round (< 1 minute)")
    parser.add_argument("--json", metavar="FILE", help="also write the "
                        "results as JSON to FILE")
    parser.add_argument("--only", default="abcdefgh",
                        help="comparisons to run, e.g. 'ac' (default: "
                        "abcdefgh; the long jobs i and j only when named)")
    parser.add_argument("--procs", type=int, default=os.cpu_count(),
                        help="processes / threads / workers per tool "
                        "(default: nproc = %(default)s)")
    for flag, (what, default, quick_default) in SIZES.items():
        parser.add_argument(flag, type=parse_count, default=None,
                            help=f"{what} (default {fmt_count(default)}; "
                            f"--quick {fmt_count(quick_default)})")
    parser.add_argument("--noop-repeat", type=int, default=None,
                        help="f.: rounds of the per-job overhead (default 20, "
                        "--quick 3)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds one measurement may take")
    parser.add_argument("--no-reexec", action="store_true",
                        help=f"do not restart under {DEBIAN_PYTHON} when "
                        "this interpreter lacks joblib or distributed")
    args = parser.parse_args()

    maybe_reexec(args)

    quick = args.quick
    repeat = args.repeat or (1 if quick else 5)
    sizes = {}
    for flag, (_, default, quick_default) in SIZES.items():
        name = flag[2:].replace("-", "_")
        sizes[name] = (getattr(args, name)
                       or (quick_default if quick else default))
    noop_repeat = args.noop_repeat or (3 if quick else 20)
    chunk_jobs = {k: v // 10 if quick else v
                  for k, v in executors.CHUNK_JOBS.items()}
    procs = args.procs
    only = set(args.only.lower())
    if not only or not only <= set("abcdefghij"):
        parser.error(f"--only {args.only}: pick letters among abcdefghij")
    timeout = args.timeout
    if repeat < 1 or noop_repeat < 1 or procs < 1:
        parser.error("--repeat, --noop-repeat and --procs must be positive")

    bins, candidates = find_binaries(args)
    facts = machine_facts(bins)
    settings = {"repeat": repeat, "noop_repeat": noop_repeat, "procs": procs,
                **sizes,
                "chunk_jobs": chunk_jobs, "quick": quick}
    print_facts(facts, settings)

    _install_signal_handlers()

    notes = []
    for name, path in bins.items():
        # bench/run's fleet uses fleet_bench; no comparison here does.
        if path is None and name != "fleet_bench":
            notes.append(f"pfor binary '{name}' not found (looked at "
                         f"{', '.join(candidates[name])}); its rows are "
                         "skipped. Build first, or pass --build / --bin.")
    primesieve = shutil.which("primesieve")
    if primesieve is None:
        notes.append("primesieve not found on PATH; install it with "
                     "`apt-get install primesieve`.")
    if joblib is None:
        notes.append("joblib does not import under "
                     f"{sys.executable}; install python3-joblib.")
    if distributed is None:
        notes.append("distributed (Dask) does not import under "
                     f"{sys.executable}; install python3-distributed.")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)

    logdir = tempfile.mkdtemp(prefix="pfor-bench-")
    comparisons = []
    interrupted = False
    try:
        comparisons = run_all(args, bins, primesieve, notes, logdir, settings,
                              only, timeout)
    except KeyboardInterrupt as e:
        interrupted = True
        print(f"\ninterrupted ({e}); cleaning up", file=sys.stderr)
    finally:
        shutdown_python_pools()
        cleanup_children()
        shutil.rmtree(logdir, ignore_errors=True)

    facts["load_average_after"] = os.getloadavg()
    if interrupted:
        return 130
    for comparison in comparisons:
        comparison.verify()
    print_table(comparisons, facts, notes)
    if args.json:
        write_json(args.json, facts, settings, comparisons, notes)
        print(f"\nwrote {args.json}")
    bad = [c for c in comparisons if c.problems]
    return 1 if bad else 0


def maybe_reexec(args):
    """Restarts under Debian's python3 when it has the modules we lack.

    joblib and Dask come from Debian packages, which install for
    /usr/bin/python3 only; a python3 found first on PATH (pyenv, a venv)
    would silently skip those comparisons.
    """
    if args.no_reexec or os.environ.get(REEXEC_ENV):
        return
    if joblib is not None and distributed is not None:
        return
    if os.path.realpath(sys.executable) == os.path.realpath(DEBIAN_PYTHON):
        return
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        return
    probe = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import joblib, distributed"],
        capture_output=True)
    if probe.returncode != 0:
        return
    print(f"note: {sys.executable} lacks joblib/distributed; restarting "
          f"under {DEBIAN_PYTHON} (pass --no-reexec to stay)", file=sys.stderr)
    sys.stderr.flush()
    env = dict(os.environ, **{REEXEC_ENV: "1"})
    os.execve(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv, env)


def shutdown_python_pools():
    if joblib is None:
        return
    try:
        from joblib.externals.loky import get_reusable_executor
        get_reusable_executor().shutdown(wait=True, kill_workers=True)
    except Exception:  # best effort: loky also cleans up at exit
        pass


def run_all(args, bins, primesieve, notes, logdir, settings, only, timeout):
    """Starts pfor's coordinator and workers once (for b., e. to j.),
    then runs the comparisons picked by `only`, in an order that keeps
    idle helpers and Dask processes out of the others' way."""
    procs = settings["procs"]
    ctx = types.SimpleNamespace(
        **settings, args=args, bins=bins, pfor=bins["pfor"],
        primesieve=primesieve, notes=notes, only=only, timeout=timeout,
        threads=["--threads", str(procs)],
        no_pfor=unavailable_pfor(bins, "pfor"),
        no_joblib=None if joblib else "joblib does not import",
        no_dask=None if distributed else "distributed (Dask) does not import",
        cluster=None,
        cluster_problem=unavailable_pfor(bins, "pfor", "coordinator",
                                         "worker"))
    if ctx.cluster_problem is None and only & set("befghij"):
        print(f"starting pfor-coordinator and {procs} workers (1 thread, 1 "
              "helper process, 1 command slot each)", file=sys.stderr,
              flush=True)
        ctx.cluster = PforCluster(bins, procs, logdir)
        try:
            ctx.cluster.start()
            print(f"  coordinator at {ctx.cluster.address}", file=sys.stderr)
        except ToolError as e:
            ctx.cluster_problem = f"could not start the pfor cluster: {e}"
            notes.append(ctx.cluster_problem)
            print(f"note: {ctx.cluster_problem}", file=sys.stderr)
            ctx.cluster.stop()
            ctx.cluster = None

    def submit(*job):
        return [ctx.pfor, "submit", "--coordinator", ctx.cluster.address,
                *job, "--wait", "--no-progress"]

    def cluster_up():
        """Restarts the pfor cluster if a process of it died meanwhile."""
        dead = ctx.cluster.dead()
        if dead:
            note = (f"{dead}; restarted the coordinator and workers before "
                    "the next timed job")
            notes.append(note)
            print(f"note: {note}", file=sys.stderr)
            ctx.cluster.stop()
            ctx.cluster.start()

    ctx.submit = submit
    ctx.cluster_up = cluster_up
    # g. runs late, so that the helper processes it starts idle through no
    # other comparison.
    steps = [("ab", primes.compare), ("c", trial.compare),
             ("d", integration.compare), ("f", startup.compare),
             ("ef", running_clusters.compare), ("g", executors.compare),
             ("h", sdk.compare), ("i", long_jobs.compare_pi),
             ("j", long_jobs.compare_trial)]
    comparisons = []
    for letters, step in steps:
        if only & set(letters):
            comparisons.extend(step(ctx))
    if ctx.cluster is not None:
        ctx.cluster.stop()

    order = {c: i for i, c in enumerate(
        ["a", "b", "c", "d", "e", "f1", "f2", "g", "h1", "h2", "i1", "i2",
         "j"])}
    comparisons.sort(key=lambda c: order.get(c.cid, 99))
    return comparisons


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup_children()
