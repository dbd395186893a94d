#!/usr/bin/python3
"""The dashboard in a real browser: a coordinator and two workers on
127.0.0.1, a job running, and headless Chromium (driven by Selenium through
chromedriver) checking that the page loads with no console error, shows both
workers, shows the job's progress increasing, shows its chunk timeline, and
drops a worker that was killed. Saves a screenshot.

Exits 77 (skipped, one line saying why) where Chromium, chromedriver or
Selenium is missing: `./setup.sh browser` installs them.

  dashboard_browser_test.py --bin-dir BUILD --screenshot PATH
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def skip(reason):
    print(f"SKIPPED: {reason}; ./setup.sh browser installs it")
    sys.exit(SKIP)


class Daemon:
    """A child process whose output is read on a thread, killed at the end."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL)
        self.out, self.err = [], []
        self.lock = threading.Lock()
        self.readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err),
                             daemon=True)]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, lines):
        for line in stream:
            with self.lock:
                lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, which="out", timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for line in (self.out if which == "out" else self.err):
                    match = re.search(pattern, line)
                    if match:
                        return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.argv[0]} printed no line matching {pattern!r}; "
                             f"stdout: {self.out} stderr: {self.err}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def poll(condition, timeout, what):
    """Calls condition() until it returns a true value, for at most timeout s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} "
                         f"(last: {last!r})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--screenshot", required=True)
    args = parser.parse_args()

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            skip(f"{path} is missing")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip("Python's selenium module is missing (python3-selenium)")

    coordinator_bin = os.path.join(args.bin_dir, "coordinator", "pfor-coordinator")
    worker_bin = os.path.join(args.bin_dir, "worker", "pfor-worker")
    cli_bin = os.path.join(args.bin_dir, "sdk", "pfor")
    daemons = []
    driver = None
    profile = tempfile.mkdtemp(prefix="pfor-chromium-")
    try:
        coordinator = Daemon([coordinator_bin, "--listen", "127.0.0.1:0",
                              "--http-listen", "127.0.0.1:0"])
        daemons.append(coordinator)
        port = coordinator.wait_for(r"listening on 127\.0\.0\.1:(\d+)$").group(1)
        http = coordinator.wait_for(r"dashboard on (http://127\.0\.0\.1:\d+/)").group(1)
        address = f"127.0.0.1:{port}"
        workers = []
        for name in ("alpha", "beta"):
            worker = Daemon([worker_bin, "--coordinator", address, "--threads", "2",
                             "--processes", "-1", "--name", name])
            worker.wait_for(r"connected as worker", which="err")
            daemons.append(worker)
            workers.append(worker)
        # About 8 s of work on the 4 slots: 1600 indices of 20 ms in chunks of
        # 10 (200 ms each).
        submitted = subprocess.run(
            [cli_bin, "--coordinator", address, "submit", "sleep", "--param",
             "us=20000", "--range", "0:1600", "--chunks", "fixed:10",
             "--name", "sleepy"], capture_output=True, text=True, timeout=60)
        assert submitted.returncode == 0, submitted
        job = re.search(r"(\d+)", submitted.stdout).group(1)

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                     "--window-size=1400,1150"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        driver.get(f"{http}#/jobs/{job}")

        # The page redraws every second: read it in one script each time,
        # never through elements that the next redraw replaces.
        def worker_names():
            return sorted(driver.execute_script(
                "return [...document.querySelectorAll('#workers tr[data-worker]')]"
                ".map((row) => row.dataset.worker)"))

        def job_attribute(selector, name):
            return driver.execute_script(
                "const node = document.querySelector(arguments[0]);"
                "return node ? node.getAttribute(arguments[1]) : null;",
                selector, name)

        poll(lambda: worker_names() == ["alpha", "beta"], 20, "both workers listed")

        def done():
            value = job_attribute(f'#jobs tr[data-job="{job}"] .bar', "data-done")
            return int(value) if value is not None else -1

        first = poll(lambda: done() > 0 and done(), 30, "the job to make progress")
        second = poll(lambda: done() > first and done(), 30, "the progress to increase")
        third = poll(lambda: done() > second and done(), 30, "the progress to increase again")
        assert first < second < third < 1600, (first, second, third)
        poll(lambda: driver.execute_script(
            "return document.querySelectorAll('#timeline rect').length") >= 8,
            20, "the chunk timeline to show attempts")
        poll(lambda: "busy" in driver.execute_script(
            "return document.getElementById('summary').textContent"), 10, "the summary")
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        assert driver.save_screenshot(args.screenshot), "no screenshot"

        workers[1].kill()
        poll(lambda: worker_names() == ["alpha"], 30, "the killed worker to disappear")
        poll(lambda: job_attribute(f'#jobs tr[data-job="{job}"]', "data-state")
             == "succeeded", 60, "the job to finish on the worker left")

        errors = [entry for entry in driver.get_log("browser")
                  if entry["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"
        print(f"ok: progress {first} < {second} < {third}, screenshot {args.screenshot}")
    finally:
        if driver is not None:
            driver.quit()
        for daemon in reversed(daemons):
            daemon.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
