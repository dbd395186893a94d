#!/usr/bin/python3
"""What the dashboard and the metrics cost dispatch.

Starts a coordinator (with --http-listen) and two workers on 127.0.0.1, then
runs the same dispatch-bound job (the noop kernel, one index per chunk)
several times, alternating two conditions:

  without  nothing reads the HTTP side;
  with     headless Chromium shows the dashboard (it polls the API every
           second) on the running job's page, and a scraper reads
           /metrics of the coordinator and both workers every second, as
           Prometheus would.

Prints the dispatch rate (chunks per second, from the job's start and end
times) of every round, the median of each condition and their ratio.

  bench/dashboard_overhead.py --build build [--rounds 7] [--chunks 300000]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime


def start(argv, pattern):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, text=True)
    found = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        for key, regex in pattern.items():
            match = re.search(regex, line)
            if match:
                found[key] = match.group(1)
        if len(found) == len(pattern):
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, found
    proc.kill()
    sys.exit(f"{argv[0]} did not print {pattern}")


def seconds(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chunks", type=int, default=300000)
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    cli = os.path.join(args.build, "sdk", "pfor")
    procs = []
    profile = tempfile.mkdtemp(prefix="pfor-bench-chromium-")
    driver = None
    try:
        coordinator, ports = start(
            [os.path.join(args.build, "coordinator", "pfor-coordinator"),
             "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
            {"grpc": r"listening on 127\.0\.0\.1:(\d+)",
             "http": r"dashboard on (http://\S+/)"})
        procs.append(coordinator)
        address = f"127.0.0.1:{ports['grpc']}"
        metrics = [ports["http"] + "metrics"]
        for name in ("w0", "w1"):
            worker, found = start(
                [os.path.join(args.build, "worker", "pfor-worker"), "--coordinator",
                 address, "--threads", "1", "--processes", "-1", "--name", name,
                 "--http-listen", "127.0.0.1:0"],
                {"metrics": r"metrics on (http://\S+)"})
            procs.append(worker)
            metrics.append(found["metrics"])

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}", "--window-size=1400,1100"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                  options=options)

        scraping = threading.Event()
        stop = threading.Event()

        def scrape():
            while not stop.is_set():
                if scraping.is_set():
                    for url in metrics:
                        urllib.request.urlopen(url, timeout=5).read()
                stop.wait(1)

        scraper = threading.Thread(target=scrape, daemon=True)
        scraper.start()

        rates = {"without": [], "with": []}
        for round_ in range(2 * args.rounds):
            condition = "with" if round_ % 2 else "without"
            submitted = subprocess.run(
                [cli, "--coordinator", address, "submit", "noop", "--range",
                 f"0:{args.chunks}", "--chunks", "fixed:1"],
                capture_output=True, text=True, check=True)
            job = submitted.stdout.strip()
            if condition == "with":
                driver.get(f"{ports['http']}#/jobs/{job}")
                scraping.set()
            else:
                driver.get("about:blank")
                scraping.clear()
            subprocess.run([cli, "--coordinator", address, "wait", job],
                           capture_output=True, check=True)
            status = json.loads(subprocess.run(
                [cli, "--coordinator", address, "--json", "status", job],
                capture_output=True, text=True, check=True).stdout)
            rate = status["progress"]["chunks_done"] / (
                seconds(status["end_time"]) - seconds(status["start_time"]))
            rates[condition].append(rate)
            print(f"round {round_ + 1:2d} {condition:7s} {rate:12.0f} chunks/s",
                  flush=True)
        stop.set()
        without = statistics.median(rates["without"])
        with_ = statistics.median(rates["with"])
        print(f"median without: {without:.0f} chunks/s; with the dashboard open "
              f"and /metrics scraped every second: {with_:.0f} chunks/s; "
              f"ratio {with_ / without:.3f}")
    finally:
        if driver is not None:
            driver.quit()
        for proc in procs:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
