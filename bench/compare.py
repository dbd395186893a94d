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

Only the Python standard library is required; joblib and Dask comparisons are
skipped with a note when those modules do not import. Results are checked
(every tool must find the same count, integrals must agree to 1e-6): a
mismatch is reported and makes the exit status 1.

Usage: python3 bench/compare.py --build build [--repeat 5] [--json out.json]
       python3 bench/compare.py --build build --quick      (smoke run, < 1 min)
"""

import argparse
import concurrent.futures
import datetime
import json
import logging
import math
import multiprocessing
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import joblib
except ImportError:
    joblib = None

try:
    import distributed
except ImportError:
    distributed = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEBIAN_PYTHON = "/usr/bin/python3"
REEXEC_ENV = "PFOR_BENCH_REEXEC"

# Prime counts every tool must find: pi(N). No N here is prime, so [1, N)
# (trial division) and [1, N] (the sieves) hold the same primes.
PRIME_PI = {
    2 * 10**5: 17984,
    2 * 10**6: 148933,
    3 * 10**6: 216816,
    10**3: 168,
    10**4: 1229,
    10**5: 9592,
    10**6: 78498,
    10**7: 664579,
    10**8: 5761455,
    10**9: 50847534,
    10**10: 455052511,
    10**11: 4118054813,
    10**12: 37607912018,
}

# --------------------------------------------------------------------------
# The Python side: the documents' examples, written as a Python user would.
# Top-level functions so that every pool can pickle them.


def is_prime(n):
    """Trial division: 2, then odd divisors up to sqrt(n)."""
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0:
        return False
    for d in range(3, math.isqrt(n) + 1, 2):
        if n % d == 0:
            return False
    return True


def count_primes_in(bounds):
    """Primes in [lo, hi)."""
    lo, hi = bounds
    count = 0
    for n in range(lo, hi):
        if is_prime(n):
            count += 1
    return count


def integrate_piece(piece):
    """Midpoint rule over points [first, last) of n: sum of cos(x_i) * h."""
    a, h, first, last = piece
    cos = math.cos
    total = 0.0
    for i in range(first, last):
        total += cos(a + (i + 0.5) * h)
    return total * h


def noop(x):
    return x


def ppe_sum(procs, fn, items):
    """sum(ProcessPoolExecutor(procs).map(fn, items)), as `with` would run it;
    on an exception (a timeout) its processes are stopped, not waited for."""
    executor = concurrent.futures.ProcessPoolExecutor(procs)
    try:
        result = sum(executor.map(fn, items))
    except BaseException:
        for process in list(getattr(executor, "_processes", {}).values()):
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return result


def split(begin, end, pieces):
    """[begin, end) cut into `pieces` contiguous parts of near-equal size."""
    size = end - begin
    bounds = [begin + size * k // pieces for k in range(pieces + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(pieces)
            if bounds[k] < bounds[k + 1]]


def integration_pieces(points, pieces):
    a, b = 0.0, math.pi / 2
    h = (b - a) / points
    return [(a, h, lo, hi) for lo, hi in split(0, points, pieces)]


# --------------------------------------------------------------------------
# Child processes: every one we start is registered and reaped at exit.


class ToolError(Exception):
    """A tool failed or gave output we cannot read; the tool is dropped."""


_children = []
_main_pid = os.getpid()


def _own_group():
    """Popen arguments for a child in a process group of its own.

    Its own group, so that the child and anything it starts can be signalled
    together; but this session, not a new one: with the kernel's autogroup
    scheduling (on by default) CPU time is shared per session, and on a busy
    machine a child in a session of its own would get a share of its own, an
    advantage the tools running in this session would not have.
    """
    if sys.version_info >= (3, 11):
        return {"process_group": 0}
    return {"preexec_fn": os.setpgrp}


def _kill_tree(proc, grace=5.0):
    """SIGTERM the child's process group, then SIGKILL after `grace`."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def cleanup_children():
    if os.getpid() != _main_pid:
        return
    while _children:
        _kill_tree(_children.pop())


class ToolTimeout(Exception):
    """An in-process tool ran past --timeout; its processes were killed."""


# Signals this script handles: SIGTERM and SIGHUP end the run with a clean-up,
# SIGALRM stops an in-process tool that runs past --timeout.
_HANDLED = (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)
_hup_ignored = signal.getsignal(signal.SIGHUP) == signal.SIG_IGN  # nohup


def _on_signal(signum, _frame):
    if os.getpid() != _main_pid:  # never expected: see _after_fork_child
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    if signum == signal.SIGALRM:
        # The tool's own clean-up stops its processes (Pool.terminate(),
        # joblib's abort, ppe_sum); killing them here instead could leave a
        # pool's queue lock held by a dead worker and hang that clean-up.
        raise ToolTimeout("no result before --timeout")
    raise KeyboardInterrupt(f"signal {signum}")


def _install_signal_handlers():
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    if not _hup_ignored:
        signal.signal(signal.SIGHUP, _on_signal)
    # Forked pool workers must not inherit the handlers: Pool.terminate()
    # stops its workers with SIGTERM, and a handler in a worker only sets a
    # flag, which Python clears after fork, so a SIGTERM sent right after the
    # fork would be lost and the pool's join would wait forever. Signals are
    # held during the fork and the child gets the default actions back before
    # it sees them.
    os.register_at_fork(before=_before_fork,
                        after_in_parent=_after_fork_parent,
                        after_in_child=_after_fork_child)


def _before_fork():
    signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)


def _after_fork_parent():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)


def _after_fork_child():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP,
                  signal.SIG_IGN if _hup_ignored else signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)


def run_command(argv, timeout):
    """Runs argv to completion; returns its stdout. Raises ToolError."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{' '.join(argv)}: no result after {timeout:.0f} s")
    except OSError as e:
        raise ToolError(f"{argv[0]}: {e}")
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise ToolError(f"{' '.join(argv)} exited with {proc.returncode}: "
                        + " | ".join(tail))
    return proc.stdout


def parse_int(text, what):
    try:
        return int(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ToolError(f"{what}: expected an integer, got {text.strip()!r}")


def parse_float(text, what):
    try:
        return float(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ToolError(f"{what}: expected a number, got {text.strip()!r}")


def wait_for_line(path, pattern, proc, deadline, what):
    """Polls the log at `path` until a line matches; returns the match."""
    regex = re.compile(pattern)
    while True:
        with open(path, errors="replace") as f:
            for line in f:
                match = regex.search(line)
                if match:
                    return match
        if proc.poll() is not None:
            raise ToolError(f"{what} exited with {proc.returncode} before it "
                            f"was ready; its log ({path}):\n" + log_tail(path))
        if time.monotonic() > deadline:
            raise ToolError(f"{what} not ready after its deadline; its log "
                            f"({path}):\n" + log_tail(path))
        time.sleep(0.02)


def log_tail(path, lines=10):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


class PforCluster:
    """A coordinator and `workers` workers on 127.0.0.1, one slot of each
    executor per worker.

    A thread, a warm helper process and a command slot: g. compares the
    three executors. Slots belong to their
    executor, so a threads job (b., e., f.) runs on the one thread per worker
    whatever the other slots; helpers start on the first processes job.
    """

    def __init__(self, bins, workers, logdir):
        self.bins = bins
        self.workers = workers
        self.logdir = logdir
        self.address = None
        self.procs = []
        self.names = []

    def _spawn(self, argv, name):
        log = os.path.join(self.logdir, name + ".log")
        with open(log, "w") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, **_own_group())
        _children.append(proc)
        self.procs.append(proc)
        self.names.append(os.path.basename(argv[0]))
        return proc, log

    def start(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        coordinator, log = self._spawn(
            [self.bins["coordinator"], "--listen", "127.0.0.1:0"],
            "coordinator")
        match = wait_for_line(log, r"listening on (\S+:\d+)", coordinator,
                              deadline, "pfor-coordinator")
        self.address = match.group(1)
        for k in range(self.workers):
            worker, log = self._spawn(
                [self.bins["worker"], "--coordinator", self.address,
                 "--threads", "1", "--processes", "1", "--allow-commands",
                 "--command-slots", "1", "--name", f"bench-w{k}"],
                f"worker{k}")
            wait_for_line(log, r"connected as worker", worker, deadline,
                          f"pfor-worker {k}")
        # The workers say they are connected; make sure the coordinator
        # counts them before the first timed job.
        while True:
            out = run_command([self.bins["pfor"], "workers", "--coordinator",
                               self.address, "--json"], timeout=10)
            try:
                listed = json.loads(out)
            except ValueError:
                raise ToolError(f"pfor workers --json printed {out!r}")
            names = {w.get("name") for w in listed if not w.get("draining")}
            if all(f"bench-w{k}" in names for k in range(self.workers)):
                return
            if time.monotonic() > deadline:
                raise ToolError(f"coordinator lists {sorted(names)}, not the "
                                f"{self.workers} bench workers")
            time.sleep(0.05)

    def dead(self):
        """Why the cluster is broken (a process exited), or None."""
        for proc, name in zip(self.procs, self.names):
            code = proc.poll()
            if code is not None:
                return f"{name} exited with {code}"
        return None

    def stop(self):
        for proc in reversed(self.procs):
            _kill_tree(proc)
            if proc in _children:
                _children.remove(proc)
        self.procs = []
        self.names = []


class DaskCluster:
    """distributed.LocalCluster with `workers` processes of one thread."""

    def __init__(self, workers):
        self.workers = workers
        self.cluster = None
        self.client = None

    def start(self):
        self.cluster = distributed.LocalCluster(
            n_workers=self.workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR)
        self.client = distributed.Client(self.cluster)
        self.client.wait_for_workers(self.workers, timeout=60)
        # Ship the functions once so the first timed job is not the first.
        self.client.submit(noop, 0, pure=False).result()

    def stop(self):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


# --------------------------------------------------------------------------
# Measurement.


class Tool:
    """One way of doing a comparison's job; `fn()` returns its result."""

    def __init__(self, key, label, fn, unavailable=None, prepare=None,
                 in_process=False, units=None, self_timed=False):
        self.key = key
        self.label = label
        self.fn = fn
        # Chunks or tasks one run handles (g.): the table then also shows the
        # median per unit, and ratios compare per-unit times.
        self.units = units
        # Called before the clock starts (e.g. to restart a dead cluster).
        self.prepare = prepare
        # Runs Python pools or Dask in this process: guarded by SIGALRM, as
        # external commands are by their own timeout.
        self.in_process = in_process
        # fn() returns (result, seconds): a program that times its own work,
        # leaving out its start-up (h.).
        self.self_timed = self_timed
        self.unavailable = unavailable  # why it cannot run at all
        self.error = None  # why it stopped running
        self.times = []
        self.values = []

    @property
    def usable(self):
        return self.unavailable is None and self.error is None

    def median(self):
        return statistics.median(self.times) if self.times else None

    def unit_median(self):
        """The median per chunk or task (median / units); None without
        units."""
        median = self.median()
        if median is None or not self.units:
            return None
        return median / self.units

    def why_missing(self):
        return self.unavailable or self.error


def measure(group_name, tools, rounds, timeout):
    """Runs every usable tool once per round, in an order rotated by round.

    A tool that fails or times out is dropped for the remaining rounds, with
    the reason kept for the table.
    """
    tools = [t for t in tools if t.usable]
    if not tools:
        return
    for r in range(rounds):
        shift = r % len(tools)
        order = tools[shift:] + tools[:shift]
        line = []
        for tool in order:
            if not tool.usable:
                continue
            try:
                if tool.prepare is not None:
                    tool.prepare()
                if tool.in_process:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                start = time.perf_counter()
                try:
                    value = tool.fn()
                finally:
                    elapsed = time.perf_counter() - start
                    if tool.in_process:
                        signal.setitimer(signal.ITIMER_REAL, 0)
            except Exception as e:  # ToolError, ToolTimeout, a pool failing
                tool.error = (str(e) if isinstance(e, ToolError)
                              else f"{type(e).__name__}: {e}")
                line.append(f"{tool.key} FAILED")
                print(f"  [{group_name}] {tool.label}: {tool.error}",
                      file=sys.stderr)
                continue
            if tool.self_timed:
                value, elapsed = value
            tool.times.append(elapsed)
            tool.values.append(value)
            line.append(f"{tool.key} {format_time(elapsed)}")
        print(f"  [{group_name}] round {r + 1}/{rounds}: " + ", ".join(line),
              file=sys.stderr, flush=True)


def fmt_count(n):
    """2000000 -> '2e6', 10000000000 -> '1e10', 123456 -> '123456'."""
    text = str(n)
    digits = text.rstrip("0")
    zeros = len(text) - len(digits)
    if len(digits) == 1 and zeros >= 3:
        return f"{digits}e{zeros}"
    return text


def format_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


class Comparison:
    """A section of the table: `subject`'s median over each other tool's."""

    def __init__(self, cid, title, subject, others, check, notes=()):
        self.cid = cid
        self.title = title
        self.subject = subject
        self.others = others
        self.check = check
        self.notes = list(notes)
        self.problems = []

    def tools(self):
        return [self.subject] + self.others

    def per_unit(self):
        """Whether the rows do different numbers of chunks or tasks, so that
        medians and ratios are compared per unit."""
        return any(t.units for t in self.tools())

    def ratio(self, other):
        if self.per_unit():
            a, b = self.subject.unit_median(), other.unit_median()
        else:
            a, b = self.subject.median(), other.median()
        if a is None or b is None or b == 0:
            return None
        return a / b

    def verify(self):
        measured = [t for t in self.tools() if t.values]
        self.problems = self.check(measured) if measured else []


def check_exact(expected=None):
    def check(tools):
        problems = []
        seen = {}
        for tool in tools:
            for value in tool.values:
                seen.setdefault(value, []).append(tool.label)
        if expected is not None:
            for value, labels in seen.items():
                if value != expected:
                    problems.append(f"{', '.join(sorted(set(labels)))} gave "
                                    f"{value}, expected {expected}")
        elif len(seen) > 1:
            problems.append("tools disagree: " + "; ".join(
                f"{v} from {', '.join(sorted(set(l)))}"
                for v, l in seen.items()))
        return problems
    return check


def check_each(expected):
    """Each row's own exact value, by tool key; rows not named give 0."""
    def check(tools):
        problems = []
        for tool in tools:
            want = expected.get(tool.key, 0)
            wrong = [v for v in tool.values if v != want]
            if wrong:
                problems.append(f"{tool.label} gave {wrong[0]}, expected "
                                f"{want}")
        return problems
    return check


def check_close(expected, tolerance):
    def check(tools):
        problems = []
        for tool in tools:
            for value in tool.values:
                if not abs(value - expected) <= tolerance:
                    problems.append(f"{tool.label} gave {value!r}, more than "
                                    f"{tolerance} from {expected!r}")
                    break
        return problems
    return check


def check_none(_tools):
    return []


# --------------------------------------------------------------------------
# The comparisons.


def find_binaries(args):
    """Paths of pfor, pfor-coordinator, pfor-worker and sdk_bench; None for
    missing ones."""
    if args.bin:
        base = os.path.abspath(args.bin)
        candidates = {
            "pfor": [os.path.join(base, "pfor"),
                     os.path.join(base, "sdk", "pfor")],
            "coordinator": [os.path.join(base, "pfor-coordinator"),
                            os.path.join(base, "coordinator",
                                         "pfor-coordinator")],
            "worker": [os.path.join(base, "pfor-worker"),
                       os.path.join(base, "worker", "pfor-worker")],
            "sdk_bench": [os.path.join(base, "sdk_bench"),
                          os.path.join(base, "bench", "sdk_bench")],
        }
    else:
        base = os.path.abspath(args.build)
        candidates = {
            "pfor": [os.path.join(base, "sdk", "pfor")],
            "coordinator": [os.path.join(base, "coordinator",
                                         "pfor-coordinator")],
            "worker": [os.path.join(base, "worker", "pfor-worker")],
            "sdk_bench": [os.path.join(base, "bench", "sdk_bench")],
        }
    found = {}
    for name, paths in candidates.items():
        found[name] = next((p for p in paths if os.access(p, os.X_OK)), None)
    return found, candidates


def parse_count(text):
    """Reads 1e10, 2e6, 2000000 or 2_000_000 as an int."""
    value = float(text.replace("_", ""))
    if value != int(value) or value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return int(value)


def machine_facts(bins):
    facts = {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": "unknown",
        "load_average_before": os.getloadavg(),
        "kernel": platform.release(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "joblib": getattr(joblib, "__version__", None),
        "distributed": getattr(distributed, "__version__", None),
        "primesieve": None,
        "pfor_commit": None,
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    facts["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    primesieve = shutil.which("primesieve")
    if primesieve:
        try:
            out = run_command([primesieve, "--version"], timeout=10)
            facts["primesieve"] = out.splitlines()[0].split(",")[0].strip()
        except (ToolError, IndexError):
            pass
    try:
        commit = subprocess.run(
            ["git", "-C", REPO, "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            facts["pfor_commit"] = commit.stdout.strip()
    except OSError:
        pass
    facts["pfor_binaries"] = bins
    return facts


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
                        help="comparisons to run, e.g. 'ac' (default: all)")
    parser.add_argument("--procs", type=int, default=os.cpu_count(),
                        help="processes / threads / workers per tool "
                        "(default: nproc = %(default)s)")
    parser.add_argument("--primes-n", type=parse_count, default=None,
                        help="a./b.: count primes up to this (default 1e10; "
                        "--quick 1e9)")
    parser.add_argument("--trial-n", type=parse_count, default=None,
                        help="c./e.: trial division over [1, N) (default 3e6; "
                        "--quick 2e5)")
    parser.add_argument("--points", type=parse_count, default=None,
                        help="d.: integration points (default 1e8; "
                        "--quick 2e6)")
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
    primes_n = args.primes_n or (10**9 if quick else 10**10)
    trial_n = args.trial_n or (200_000 if quick else 3_000_000)
    points = args.points or (2_000_000 if quick else 100_000_000)
    noop_repeat = args.noop_repeat or (3 if quick else 20)
    chunk_jobs = {k: v // 10 if quick else v for k, v in CHUNK_JOBS.items()}
    procs = args.procs
    only = set(args.only.lower())
    if not only or not only <= set("abcdefgh"):
        parser.error(f"--only {args.only}: pick letters among abcdefgh")
    timeout = args.timeout
    if repeat < 1 or noop_repeat < 1 or procs < 1:
        parser.error("--repeat, --noop-repeat and --procs must be positive")

    bins, candidates = find_binaries(args)
    facts = machine_facts(bins)
    settings = {"repeat": repeat, "noop_repeat": noop_repeat, "procs": procs,
                "primes_n": primes_n, "trial_n": trial_n, "points": points,
                "chunk_jobs": chunk_jobs, "quick": quick}
    print_facts(facts, settings)

    _install_signal_handlers()

    notes = []
    for name, path in bins.items():
        if path is None:
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
        comparisons = run_all(
            args, bins, primesieve, notes, logdir, procs, repeat, noop_repeat,
            primes_n, trial_n, points, only, timeout, chunk_jobs)
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


def unavailable_pfor(bins, *names):
    missing = [n for n in names if bins.get(n) is None]
    if missing:
        return f"pfor binary {', '.join(missing)} not found"
    return None


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


def run_all(args, bins, primesieve, notes, logdir, procs, repeat,
            noop_repeat, primes_n, trial_n, points, only, timeout,
            chunk_jobs):
    pfor = bins["pfor"]
    threads = ["--threads", str(procs)]
    primes_text = fmt_count(primes_n)
    trial_text = fmt_count(trial_n)
    points_text = fmt_count(points)
    no_pfor = unavailable_pfor(bins, "pfor")
    no_joblib = None if joblib else "joblib does not import"
    no_dask = None if distributed else "distributed (Dask) does not import"

    # The coordinator and its workers, started once for b., e., f., g., h.
    cluster = None
    cluster_problem = unavailable_pfor(bins, "pfor", "coordinator", "worker")
    if cluster_problem is None and only & set("befgh"):
        print(f"starting pfor-coordinator and {procs} workers (1 thread, 1 "
              "helper process, 1 command slot each)", file=sys.stderr,
              flush=True)
        cluster = PforCluster(bins, procs, logdir)
        try:
            cluster.start()
            print(f"  coordinator at {cluster.address}", file=sys.stderr)
        except ToolError as e:
            cluster_problem = f"could not start the pfor cluster: {e}"
            notes.append(cluster_problem)
            print(f"note: {cluster_problem}", file=sys.stderr)
            cluster.stop()
            cluster = None

    def submit(*job):
        return [pfor, "submit", "--coordinator", cluster.address, *job,
                "--wait", "--no-progress"]

    def cluster_up():
        """Restarts the pfor cluster if a process of it died meanwhile."""
        dead = cluster.dead()
        if dead:
            note = (f"{dead}; restarted the coordinator and workers before "
                    "the next timed job")
            notes.append(note)
            print(f"note: {note}", file=sys.stderr)
            cluster.stop()
            cluster.start()

    comparisons = []
    expected_primes = PRIME_PI.get(primes_n)
    expected_trial = PRIME_PI.get(trial_n)

    # a. and b. share their rounds, so b.'s ratios compare like with like.
    if only & set("ab"):
        run_primes = Tool(
            "pfor-run", f"pfor run count_primes --range 1:{primes_text}",
            lambda: parse_int(run_command(
                [pfor, "run", "count_primes", "--range", f"1:{primes_n}",
                 *threads, "--no-progress"], timeout), "pfor run"),
            no_pfor)
        sieve = Tool(
            "primesieve", f"primesieve {primes_text} -t{procs}",
            lambda: parse_int(run_command(
                [primesieve, str(primes_n), f"-t{procs}", "-q"], timeout),
                "primesieve"),
            None if primesieve else "primesieve not installed")
        submit_primes = Tool(
            "pfor-submit", f"pfor submit count_primes ({procs} workers)",
            lambda: parse_int(run_command(
                submit("count_primes", "--range", f"1:{primes_n}"), timeout),
                "pfor submit"),
            cluster_problem if "b" in only else "not selected",
            prepare=cluster_up)
        print(f"a./b. prime count to {primes_text}", file=sys.stderr)
        measure("a/b", [run_primes, sieve, submit_primes], repeat, timeout)
        check = check_exact(expected_primes)
        if "a" in only:
            comparisons.append(Comparison(
                "a", f"Prime count 1..{primes_text}, segmented sieve "
                f"(exact; pi = {expected_primes or '?'})",
                run_primes, [sieve], check,
                ["Wall time of the whole command: process start, embedded "
                 "cluster start (pfor) and exit included for both."]))
        if "b" in only:
            comparisons.append(Comparison(
                "b", f"Same count through pfor-coordinator + {procs} "
                "one-thread workers on loopback",
                submit_primes, [run_primes, sieve], check,
                ["Coordinator and workers started once before timing; the "
                 "time is `pfor submit --wait` (CLI start, submit, "
                 "dispatch over gRPC, result)."]))

    # c. The documents' example: trial division in per-process chunks.
    chunks = split(1, trial_n, procs)
    balanced_chunks = split(1, trial_n, procs * 16)

    def mp_pool(parts):
        with multiprocessing.Pool(procs) as pool:
            return sum(pool.map(count_primes_in, parts))

    def process_pool():
        return ppe_sum(procs, count_primes_in, chunks)

    def joblib_trial():
        return sum(joblib.Parallel(n_jobs=procs)(
            joblib.delayed(count_primes_in)(c) for c in chunks))

    trial_check = check_exact(expected_trial)
    if "c" in only:
        tools = [
            Tool("pfor-run", f"pfor run count_primes_trial --range "
                 f"1:{trial_text}",
                 lambda: parse_int(run_command(
                     [pfor, "run", "count_primes_trial", "--range",
                      f"1:{trial_n}", *threads, "--no-progress"], timeout),
                     "pfor run"), no_pfor),
            Tool("mp-pool", f"multiprocessing.Pool({procs}).map, "
                 f"{len(chunks)} chunks", lambda: mp_pool(chunks),
                 in_process=True),
            Tool("ppe", f"ProcessPoolExecutor({procs}).map, "
                 f"{len(chunks)} chunks", process_pool, in_process=True),
            Tool("joblib", f"joblib.Parallel(n_jobs={procs}), "
                 f"{len(chunks)} chunks", joblib_trial, no_joblib,
                 in_process=True),
            Tool("mp-pool-16", f"multiprocessing.Pool({procs}).map, "
                 f"{len(balanced_chunks)} chunks",
                 lambda: mp_pool(balanced_chunks), in_process=True),
        ]
        print(f"c. trial division over [1, {trial_text})", file=sys.stderr)
        measure("c", tools, repeat, timeout)
        comparisons.append(Comparison(
            "c", f"Primes in [1, {trial_text}) by trial division (the Python "
            "documents' example)", tools[0], tools[1:], trial_check,
            ["Python times include creating the pool (as `with Pool(...)` "
             "does) but not the interpreter start; pfor's include its "
             "process and embedded cluster start.",
             "joblib's loky workers are reused between calls (its normal "
             "behaviour), so only its first round pays for their start.",
             f"Equal-size per-process chunks are unequal work (higher numbers "
             f"cost more), so the last chunk finishes late; the "
             f"{len(balanced_chunks)}-chunk row shows Python with that "
             f"imbalance removed. pfor sizes its chunks itself (auto)."]))

    # d. Midpoint rule for cos over [0, pi/2] in pure Python.
    pieces = integration_pieces(points, procs)

    def mp_integrate():
        with multiprocessing.Pool(procs) as pool:
            return math.fsum(pool.map(integrate_piece, pieces))

    def joblib_integrate():
        return math.fsum(joblib.Parallel(n_jobs=procs)(
            joblib.delayed(integrate_piece)(p) for p in pieces))

    if "d" in only:
        tools = [
            Tool("pfor-run", f"pfor run integrate --points {points_text}",
                 lambda: parse_float(run_command(
                     [pfor, "run", "integrate", "--param", "a=0", "--param",
                      "b=pi/2", "--points", str(points), *threads,
                      "--no-progress"], timeout), "pfor run"), no_pfor),
            Tool("joblib", f"joblib.Parallel(n_jobs={procs}), pure Python",
                 joblib_integrate, no_joblib, in_process=True),
            Tool("mp-pool", f"multiprocessing.Pool({procs}), pure Python",
                 mp_integrate, in_process=True),
        ]
        print(f"d. integrate cos over [0, pi/2], {points_text} points",
              file=sys.stderr)
        measure("d", tools, repeat, timeout)
        comparisons.append(Comparison(
            "d", f"Integral of cos over [0, pi/2], midpoint rule, "
            f"{points_text} points (= 1)", tools[0], tools[1:],
            check_close(1.0, 1e-6),
            [f"Python: a plain loop over {len(pieces)} pieces, no numpy; "
             "pool creation included as in c."]))

    # f., first half: one trivial job on a cluster started for it.
    if "f" in only:
        def mp_noop():
            with multiprocessing.Pool(procs) as pool:
                return sum(pool.map(noop, [0]))

        def ppe_noop():
            return ppe_sum(procs, noop, [0])

        tools = [
            Tool("pfor-run", "pfor run noop --range 0:1",
                 lambda: parse_int(run_command(
                     [pfor, "run", "noop", "--range", "0:1", *threads,
                      "--no-progress"], timeout), "pfor run"), no_pfor),
            Tool("mp-pool", f"multiprocessing.Pool({procs}) + 1 task",
                 mp_noop, in_process=True),
            Tool("ppe", f"ProcessPoolExecutor({procs}) + 1 task", ppe_noop,
                 in_process=True),
            # Where pfor's time goes: the same start without a job.
            Tool("pfor-kernels", "(reference) pfor kernels: start, no job",
                 lambda: len(json.loads(run_command(
                     [pfor, "kernels", "--json"], timeout))),
                 no_pfor),
        ]
        print("f. per-job overhead, fresh cluster", file=sys.stderr)
        measure("f1", tools, noop_repeat, timeout)
        comparisons.append(Comparison(
            "f1", "Per-job overhead, cluster started for the job: one "
            "trivial task", tools[0], tools[1:], check_none,
            ["pfor: process start + embedded coordinator and worker + one "
             "chunk + exit. Python: pool start + one task + pool shutdown, "
             "inside a running interpreter (its own start, ~20 ms, is not "
             "counted)."]))

    # e. and f., second half: running clusters. Dask starts only now so that
    # its idle processes do not disturb the measurements above.
    dask = None
    if only & set("ef"):
        no_dask_now = no_dask
        if no_dask is None:
            print(f"starting Dask LocalCluster({procs} workers x 1 thread)",
                  file=sys.stderr, flush=True)
            dask = DaskCluster(procs)
            try:
                dask.start()
            except Exception as e:
                no_dask_now = f"Dask LocalCluster did not start: {e}"
                notes.append(no_dask_now)
                dask.stop()
                dask = None
        try:
            if "e" in only:
                def dask_trial():
                    futures = dask.client.map(count_primes_in, chunks,
                                              pure=False)
                    return sum(dask.client.gather(futures))

                tools = [
                    Tool("pfor-submit", f"pfor submit count_primes_trial "
                         f"({procs} workers)",
                         lambda: parse_int(run_command(
                             submit("count_primes_trial", "--range",
                                    f"1:{trial_n}"), timeout),
                             "pfor submit"), cluster_problem,
                         prepare=cluster_up),
                    Tool("dask", f"Dask client.map, {len(chunks)} chunks",
                         dask_trial, no_dask_now, in_process=True),
                ]
                print(f"e. trial division over [1, {trial_text}) on running "
                      "clusters", file=sys.stderr)
                measure("e", tools, repeat, timeout)
                comparisons.append(Comparison(
                    "e", f"Primes in [1, {trial_text}) on running clusters: "
                    f"pfor coordinator + {procs} workers vs Dask LocalCluster",
                    tools[0], tools[1:], trial_check,
                    ["Cluster start-up excluded for both: each cluster is "
                     "started once and only the job is timed (pfor's time "
                     "still includes starting the `pfor` CLI process).",
                     "Dask runs the same per-process chunks as c."]))
            if "f" in only:
                def dask_noop():
                    return dask.client.submit(noop, 0, pure=False).result()

                def joblib_noop():
                    return sum(joblib.Parallel(n_jobs=procs)(
                        joblib.delayed(noop)(0) for _ in range(1)))

                tools = [
                    Tool("pfor-submit", "pfor submit noop --range 0:1 --wait",
                         lambda: parse_int(run_command(
                             submit("noop", "--range", "0:1"), timeout),
                             "pfor submit"), cluster_problem,
                         prepare=cluster_up),
                    Tool("dask", "Dask client.submit(noop).result()",
                         dask_noop, no_dask_now, in_process=True),
                    Tool("joblib", f"joblib.Parallel(n_jobs={procs}), 1 task "
                         "(warm workers)", joblib_noop, no_joblib,
                         in_process=True),
                    # Where pfor's time goes: CLI start and one call.
                    Tool("pfor-workers", "(reference) pfor workers: CLI "
                         "start + 1 call, no job",
                         lambda: len(json.loads(run_command(
                             [pfor, "workers", "--coordinator",
                              cluster.address, "--json"], timeout))),
                         cluster_problem, prepare=cluster_up),
                ]
                print("f. per-job overhead, running cluster", file=sys.stderr)
                measure("f2", tools, noop_repeat, timeout)
                comparisons.append(Comparison(
                    "f2", "Per-job overhead on a running cluster: one trivial "
                    "task", tools[0], tools[1:], check_none,
                    ["pfor: `pfor submit --wait` = CLI process start, "
                     "connect, submit, one chunk on a worker, result. Dask "
                     "and joblib: one task from this running interpreter."]))
        finally:
            if dask is not None:
                dask.stop()

    # g. Per-chunk overhead of the executors on the running cluster; last, so
    # that the helper processes it starts idle through no other comparison.
    if "g" in only:
        comparisons.append(executor_overhead(
            cluster_problem, submit, cluster_up, procs, repeat, timeout,
            chunk_jobs))
    if "h" in only:
        comparisons.extend(sdk_overhead(
            bins, cluster, cluster_problem, cluster_up, procs, repeat,
            timeout, chunk_jobs))
    if cluster is not None:
        cluster.stop()

    order = {c: i for i, c in enumerate(
        ["a", "b", "c", "d", "e", "f1", "f2", "g", "h1", "h2"])}
    comparisons.sort(key=lambda c: order.get(c.cid, 99))
    return comparisons


# --------------------------------------------------------------------------
# Output.


def print_facts(facts, settings):
    load = " ".join(f"{x:.2f}" for x in facts["load_average_before"])
    print("pfor vs Python tools, one run on this machine")
    print(f"  date          {facts['date']}")
    print(f"  cpu           {facts['cpu_model']}")
    print(f"  nproc         {facts['nproc']} (usable: {facts['usable_cpus']})")
    print(f"  load average  {load} (before the run)")
    print(f"  python        {facts['python']}; joblib {facts['joblib']}; "
          f"distributed {facts['distributed']}")
    print(f"  primesieve    {facts['primesieve']}")
    print(f"  pfor          {facts['pfor_commit']} "
          f"({facts['pfor_binaries'].get('pfor')})")
    print(f"  settings      {settings['repeat']} rounds "
          f"({settings['noop_repeat']} for overhead), {settings['procs']} "
          f"processes per tool, primes to {fmt_count(settings['primes_n'])}, "
          f"trial division to {fmt_count(settings['trial_n'])}, "
          f"{fmt_count(settings['points'])} integration points")
    jobs = settings["chunk_jobs"]
    print(f"  per-chunk     g: {fmt_count(jobs['threads'])} chunks on "
          f"threads, {fmt_count(jobs['processes'])} on processes, "
          f"{fmt_count(jobs['command'])} commands")
    print(flush=True)


def print_table(comparisons, facts, notes):
    print()
    print("Median wall time of each tool over the rounds; ratio = the first "
          "row's median / this row's median (below 1: the first row, pfor, is "
          "faster).")
    width = max([len(t.label) for c in comparisons for t in c.tools()] + [20])
    for c in comparisons:
        print()
        print(f"{c.cid}. {c.title}")
        per_unit = c.per_unit()
        if per_unit:
            print(f"   ratio = per-chunk median of '{c.subject.label}' / "
                  "per-chunk (per-task) median of the row")
        else:
            print(f"   ratio = median of '{c.subject.label}' / median of "
                  "the row")
        unit_header = f"  {'per chunk':>10}" if per_unit else ""
        header = (f"   {'tool':<{width}}  {'median':>10}  {'min':>10}  "
                  f"{'max':>10}  {'n':>3}{unit_header}  {'result':>12}  "
                  f"{'ratio':>6}")
        print(header)
        for i, tool in enumerate(c.tools()):
            if tool.times:
                ratio = "" if i == 0 else format_ratio(c.ratio(tool))
                result = format_value(tool.values[0]) if tool.values else ""
                unit = (f"  {format_short_time(tool.unit_median()):>10}"
                        if per_unit else "")
                print(f"   {tool.label:<{width}}  "
                      f"{format_time(tool.median()):>10}  "
                      f"{format_time(min(tool.times)):>10}  "
                      f"{format_time(max(tool.times)):>10}  "
                      f"{len(tool.times):>3}{unit}  {result:>12}  "
                      f"{ratio:>6}")
            else:
                print(f"   {tool.label:<{width}}  skipped: "
                      f"{tool.why_missing()}")
        for note in c.notes:
            print(f"   - {note}")
        for problem in c.problems:
            print(f"   !! RESULT MISMATCH: {problem}")
    load = " ".join(f"{x:.2f}" for x in facts["load_average_after"])
    print()
    print(f"load average after the run: {load}")
    for note in notes:
        print(f"note: {note}")


def format_ratio(ratio):
    if ratio is None:
        return "-"
    if ratio < 0.01:
        return f"{ratio:.2g}"
    return f"{ratio:.3f}" if ratio < 0.1 else f"{ratio:.2f}"


def format_short_time(seconds):
    """A per-chunk time: '42.1 µs', '1.31 ms'."""
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return format_time(seconds)


def format_value(value):
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def write_json(path, facts, settings, comparisons, notes):
    out = {
        "machine": facts,
        "settings": settings,
        "notes": notes,
        "comparisons": [],
    }
    for c in comparisons:
        rows = []
        for i, tool in enumerate(c.tools()):
            rows.append({
                "key": tool.key,
                "label": tool.label,
                "times_s": tool.times,
                "median_s": tool.median(),
                "min_s": min(tool.times) if tool.times else None,
                "max_s": max(tool.times) if tool.times else None,
                "results": tool.values,
                "units": tool.units,
                "per_unit_median_s": tool.unit_median(),
                f"ratio_{c.subject.key}_over_this": None if i == 0
                else c.ratio(tool),
                "skipped": None if tool.times else tool.why_missing(),
            })
        out["comparisons"].append({
            "id": c.cid,
            "title": c.title,
            "subject": c.subject.label,
            "rows": rows,
            "notes": c.notes,
            "problems": c.problems,
        })
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup_children()
