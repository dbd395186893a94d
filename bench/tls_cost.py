#!/usr/bin/env python3
"""What TLS and tokens cost: sdk_bench against a plaintext coordinator and
against one with TLS, worker certificates and tokens, interleaved round by
round on the same machine.

    python3 bench/tls_cost.py --build build [--rounds 5]

Each round starts both clusters (a coordinator and one worker with --threads
2 on 127.0.0.1), runs sdk_bench against each in turn (the order alternates)
and stops them. Reports the medians over rounds of the submit().result()
round trip (p50, p99) and of Executor.map's rate, and the ratios TLS/plain.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_cluster(build, extra_coordinator, extra_worker):
    coordinator = subprocess.Popen(
        [os.path.join(build, "coordinator", "pfor-coordinator"),
         "--listen", "127.0.0.1:0"] + extra_coordinator,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = coordinator.stdout.readline()
    match = re.search(r"listening on (\S+)", line)
    if not match:
        coordinator.kill()
        sys.exit("tls_cost: the coordinator did not start: " + line)
    address = match.group(1)
    worker = subprocess.Popen(
        [os.path.join(build, "worker", "pfor-worker"), "--coordinator",
         address, "--threads", "2", "--processes", "-1"] + extra_worker,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return address, [worker, coordinator]


def stop(processes):
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bench(build, address, extra, args):
    out = subprocess.run(
        [os.path.join(build, "bench", "sdk_bench"), "--coordinator", address,
         "--calls", str(args.calls), "--map-tasks", str(args.map_tasks),
         "--rounds", "1", "--json"] + extra,
        check=True, capture_output=True, text=True, timeout=600).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--map-tasks", type=int, default=100000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as creds:
        subprocess.run([os.path.join(REPO, "deploy", "make-credentials.sh"),
                        creds], check=True, stderr=subprocess.DEVNULL)
        def c(name):
            return os.path.join(creds, name)

        secure_coordinator = [
            "--tls-cert", c("coordinator.pem"), "--tls-key",
            c("coordinator.key"), "--tls-ca", c("ca.pem"),
            "--tls-verify-workers", "--tokens", c("tokens")]
        secure_worker = ["--tls-ca", c("ca.pem"), "--tls-cert", c("worker.pem"),
                         "--tls-key", c("worker.key"), "--token-file",
                         c("worker.token")]
        secure_client = ["--tls-ca", c("ca.pem"), "--token-file",
                         c("submit.token")]
        setups = {"plain": ([], [], []),
                  "tls": (secure_coordinator, secure_worker, secure_client)}
        results = {name: [] for name in setups}
        for round_ in range(args.rounds):
            order = list(setups) if round_ % 2 == 0 else list(setups)[::-1]
            for name in order:
                coordinator, worker, client = setups[name]
                address, processes = start_cluster(args.build, coordinator,
                                                   worker)
                try:
                    results[name].append(bench(args.build, address, client,
                                               args))
                finally:
                    stop(processes)

    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    print(f"{args.rounds} rounds, medians; ratio = tls / plain")
    for key, label in [("submit_result_p50_us", "round trip p50 (us)"),
                       ("submit_result_p99_us", "round trip p99 (us)"),
                       ("map_tasks_per_s", "map rate (tasks/s)")]:
        plain, tls = median("plain", key), median("tls", key)
        print(f"  {label:22} plain {plain:12.0f}  tls {tls:12.0f}  "
              f"ratio {tls / plain:.2f}")


if __name__ == "__main__":
    main()
