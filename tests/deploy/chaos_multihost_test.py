"""The chaos run across hosts: silent partitions, latency and loss.

Five hosts made of network namespaces (netns.py): a coordinator with a state
directory, three workers and a client. Each round submits jobs of every
kind from the client (prime counts, integrals, a command job, and a batch
through the SDK: examples/map_ordered), then

- partitions w1 or w2 silently (iptables drops every packet in its
  namespace: no reset, no FIN), times how long the coordinator takes to
  declare it lost, and heals the partition;
- puts latency and loss on w3's link (netem 50 ms and 10% loss; where the
  kernel has no netem, a relay in w3 holding every byte 25 ms each way and
  iptables dropping 10% each way), runs a job across it, and heals the link.

At the end every job must have ended with its exact result (an integral
within 1e-12 of its closed form, with the bits of an embedded run) and none
may have vanished. It prints the faults injected, the jobs run of each
kind, wrong and lost results and the time to detect a silent partition.

    chaos_multihost_test.py BUILD_DIR SOURCE_DIR   exit 0 passed, 77 skipped, 1 failed

The default run has 2 rounds (4 faults); PFOR_CHAOS_FAULTS=N runs N // 8
rounds (the long run, PFOR_CHAOS_FAULTS=120: 15 rounds, 30 faults).
"""

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import netns
from multihost_test import HEARTBEAT_TIMEOUT_S, HERE, Cluster, check, embedded, read_line

INTEGRAL_TOLERANCE = 1e-12
# The worker on the impaired link, and those partitioned in turn.
IMPAIRED = "w3"
PARTITIONED = ("w1", "w2")
# Many short chunks, each waiting on a round trip across the impaired link.
ACROSS = ("count_primes", "--range", "0:2e9", "--chunks", "fixed:10000000")
MAP_ORDERED = ("[1, 10): 4\n[10, 100): 21\n[100, 1000): 143\n"
               "[1000, 10000): 1061\n[10000, 100000): 8363\n"
               "[100000, 1000000): 68906\n[1000000, 10000000): 586081\n")


def integral(integrand, b, closed_form, chunks):
    return ("integral", ("integrate", "--param", f"integrand={integrand}",
                         "--param", "a=0", "--param", f"b={b}",
                         "--points", "2e7", "--chunks", chunks), closed_form)


def workload(source):
    """(kind, pfor submit arguments, exact result or closed form) of a round."""
    script = os.path.join(source, "examples/commands/count_primes.py")
    return [
        ("prime count", ("count_primes", "--range", "0:1e9", "--chunks",
                         "fixed:10000000"), 50847534),
        # Seconds of work: it runs through the round's faults.
        ("prime count", ("count_primes_trial", "--range", "0:3e6", "--chunks",
                         "fixed:20000"), 216816),
        integral("cos", "pi/2", 1.0, "fixed:1000000"),
        integral("4/(1+x^2)", "1", math.pi, "auto"),
        ("command job", ("--executor", "command", "--command",
                         f"python3 {script} {{begin}} {{end}}",
                         "--range", "0:2e5", "--chunks", "count:8"), 17984),
    ]


class Impairment:
    """Latency and loss on a worker's link, on and off."""

    def __init__(self, lab, cluster, host):
        self.lab, self.host = lab, host
        self.relay = None
        # Probe: netem present adds and removes a qdisc.
        if lab.netem(host, "delay", "50ms", "loss", "10%"):
            lab.netem_off(host)
            self.how = "netem delay 50ms loss 10%"
            cluster.start_worker(host, extra=("--allow-commands",))
            return
        self.relay = lab.start(host, [sys.executable, os.path.join(HERE, "delay_relay.py"),
                                      cluster.address, "25", "off"],
                               stdout=subprocess.PIPE, text=True)
        port = read_line(self.relay, 10).split()[-1]
        self.how = ("a relay holding every byte 25 ms each way and iptables "
                    "dropping 10% each way (no netem in this kernel)")
        cluster.start_worker(host, f"127.0.0.1:{port}", extra=("--allow-commands",))

    def set(self, on):
        if self.relay is None:
            if on:
                self.lab.netem(self.host, "delay", "50ms", "loss", "10%")
            else:
                self.lab.netem_off(self.host)
            return
        self.relay.send_signal(signal.SIGUSR1)
        self.lab.drop(self.host, on, probability=0.1)


class Run:
    def __init__(self, lab, cluster, build, source):
        self.lab, self.cluster, self.build = lab, cluster, build
        self.jobs = workload(source)
        self.submitted = []  # (id, kind, arguments, expected)
        self.batches = []  # SDK programs running a batch
        self.kinds = {}  # kind -> [run, wrong, lost]
        self.requeued = 0  # chunks rerun because their worker was lost
        self.bits = {}  # integrate arguments without --chunks -> embedded result
        self.detect = []
        self.rejoin = []
        self.faults = {}

    def submit_round(self):
        for kind, args, expected in self.jobs:
            job = self.cluster.pfor("submit", *args, timeout=60)["id"]
            self.submitted.append((job, kind, args, expected))
        self.batches.append(self.lab.start(
            "client", [os.path.join(self.build, "examples/example_map_ordered")],
            env={**os.environ, "PFOR_COORDINATOR": self.cluster.address},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

    def partition(self, host):
        self.lab.drop(host, True)
        start = time.monotonic()
        bound = 3 * HEARTBEAT_TIMEOUT_S + 10
        while host in self.cluster.worker_names() and time.monotonic() < start + bound:
            time.sleep(0.05)
        lost = time.monotonic() - start
        self.lab.drop(host, False)
        check(lost < bound, f"{host} silently partitioned: declared lost after "
                            f"{lost:.2f} s (heartbeat timeout {HEARTBEAT_TIMEOUT_S} s)")
        self.detect.append(lost)
        healed = time.monotonic()
        self.rejoin.append(self.cluster.wait_for_workers(
            list(PARTITIONED) + [IMPAIRED], within=90) - healed)
        self.count_fault("silent partition of a worker")

    def impair(self, impairment):
        impairment.set(True)
        try:
            result, seconds = self.cluster.run(*ACROSS)
        finally:
            impairment.set(False)
        check(result == 98222287,
              f"primes below 2e9 with {IMPAIRED} impaired: {result} in {seconds:.2f} s")
        self.count_fault("latency and loss on a worker's link")

    def count_fault(self, name):
        self.faults[name] = self.faults.get(name, 0) + 1

    def tally(self, kind, right, lost, what):
        counts = self.kinds.setdefault(kind, [0, 0, 0])
        counts[0] += 1
        if not right:
            counts[2 if lost else 1] += 1
            print(f"WRONG or LOST: {kind}: {what}", flush=True)

    def right(self, kind, args, expected, result):
        if kind != "integral":
            return result == expected
        key = tuple(args[:-2])  # the same integral whatever its chunks
        if key not in self.bits:
            self.bits[key] = embedded(self.build, *args)
        return (abs(result - expected) <= INTEGRAL_TOLERANCE and
                result == self.bits[key])

    def check_all(self):
        for job, kind, args, expected in self.submitted:
            done = self.lab.exec("client", self.cluster.cli, "--coordinator",
                                 self.cluster.address, "--json", "wait", str(job),
                                 check=False, timeout=300)
            try:
                status = json.loads(done.stdout) if done.returncode == 0 else {}
            except ValueError:
                status = {}
            right = (status.get("state") == "succeeded" and
                     self.right(kind, args, expected, status.get("result")))
            self.requeued += status.get("progress", {}).get("chunks_requeued", 0)
            self.tally(kind, right, "does not exist" in done.stderr,
                       f"job {job} ({' '.join(args)}): exit {done.returncode} "
                       f"{done.stdout.strip()} {done.stderr.strip()}")
        for batch in self.batches:
            out, err = batch.communicate(timeout=300)
            self.tally("SDK batch", batch.returncode == 0 and out == MAP_ORDERED,
                       False, f"exit {batch.returncode}: {out!r} {err.strip()}")

    def report(self):
        print("chaos multihost: faults injected: " +
              "; ".join(f"{name} x{count}" for name, count in self.faults.items()))
        print("chaos multihost: jobs run: " +
              "; ".join(f"{kind} {run} ({wrong} wrong, {lost} lost)"
                        for kind, (run, wrong, lost) in self.kinds.items()))
        print(f"chaos multihost: a silent partition detected in "
              f"{statistics.median(self.detect):.2f} s (median of {len(self.detect)}, "
              f"heartbeat timeout {HEARTBEAT_TIMEOUT_S} s); the worker back "
              f"{statistics.median(self.rejoin):.2f} s after the heal (median)",
              flush=True)
        wrong = sum(counts[1] for counts in self.kinds.values())
        lost = sum(counts[2] for counts in self.kinds.values())
        check(wrong == 0 and lost == 0, f"{wrong} wrong and {lost} lost results")
        check(self.requeued > 0, f"the partitions caught work in flight: "
                                 f"{self.requeued} chunks ran again elsewhere")


def rounds():
    try:
        faults = int(os.environ.get("PFOR_CHAOS_FAULTS", "0"))
    except ValueError:
        faults = 0
    return max(2, faults // 8)


def main():
    build, source = (os.path.abspath(path) for path in sys.argv[1:3])
    if not netns.ready("chaos multihost test"):
        return 77
    with tempfile.TemporaryDirectory() as state_dir, netns.Lab() as lab:
        for host in ("coordinator", *PARTITIONED, IMPAIRED, "client"):
            lab.add_host(host)
        cluster = Cluster(lab, build, state_dir)
        cluster.start_coordinator()
        for host in PARTITIONED:
            cluster.start_worker(host, extra=("--allow-commands",))
        impairment = Impairment(lab, cluster, IMPAIRED)
        cluster.wait_for_workers([*PARTITIONED, IMPAIRED])
        print(f"impairment of {IMPAIRED}: {impairment.how}", flush=True)
        run = Run(lab, cluster, build, source)
        for number in range(rounds()):
            run.submit_round()
            run.partition(PARTITIONED[number % len(PARTITIONED)])
            run.impair(impairment)
        run.check_all()
        run.report()
    return 0


if __name__ == "__main__":
    netns.exit_with(main)
