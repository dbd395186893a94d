"""What every comparison shares: child processes reaped at exit, the pfor
and Dask clusters, tools measured in interleaved rounds, result checks, and
the binaries and facts of this machine."""

import argparse
import datetime
import json
import logging
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

from .workloads import noop

try:
    import joblib
except ImportError:
    joblib = None

try:
    import distributed
except ImportError:
    distributed = None

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def run_command(argv, timeout, env=None):
    """Runs argv to completion (in `env`, default ours); returns its stdout.
    Raises ToolError."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              env=env)
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



def find_binaries(args):
    """Paths of pfor, pfor-coordinator, pfor-worker, sdk_bench and
    fleet_bench; None for missing ones."""
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
            "fleet_bench": [os.path.join(base, "fleet_bench"),
                            os.path.join(base, "bench", "fleet_bench")],
        }
    else:
        base = os.path.abspath(args.build)
        candidates = {
            "pfor": [os.path.join(base, "sdk", "pfor")],
            "coordinator": [os.path.join(base, "coordinator",
                                         "pfor-coordinator")],
            "worker": [os.path.join(base, "worker", "pfor-worker")],
            "sdk_bench": [os.path.join(base, "bench", "sdk_bench")],
            "fleet_bench": [os.path.join(base, "bench", "fleet_bench")],
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



def unavailable_pfor(bins, *names):
    missing = [n for n in names if bins.get(n) is None]
    if missing:
        return f"pfor binary {', '.join(missing)} not found"
    return None
