"""Hosts made of Linux network namespaces, for tests that need a network.

A Lab is a switch (a bridge in a namespace of its own) and hosts (one
namespace each, joined to the switch by a veth pair, with an address in
10.203.0.0/24). Nothing is added to the namespace the test runs in, so the
machine's own network is never touched. Every name starts with
pfor<pid>-, and a Lab removes what it made when closed; it also removes
what a killed earlier run left behind (namespaces whose pid is gone).

Needs root and iproute2 (`ip netns`); impairments need iptables in the
namespaces (loss, silent partitions) and, where the kernel has it, netem.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

PREFIX = "pfor"
SUBNET = "10.203.0"


def run(*args, check=True, ns=None, timeout=20):
    """Runs a command (in namespace ns), returns its completed process."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done


def missing_requirement():
    """A one-line reason this machine cannot run a Lab, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not shutil.which("ip"):
        return "needs iproute2 (apt-get install iproute2)"
    try:
        probe = f"{PREFIX}{os.getpid()}-probe"
        run("ip", "netns", "add", probe)
        run("ip", "netns", "delete", probe)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        return f"cannot create a network namespace: {error}"
    return None


def ready(test):
    """Whether this machine can run `test` on a Lab with impairments; if
    not, prints one line saying why. Makes ctest's timeout and Ctrl-C end
    the test through its cleanup (Lab.close)."""
    reason = missing_requirement() or (
        None if shutil.which("iptables") else "needs iptables (apt-get install iptables)")
    if reason:
        print(f"SKIP: {test} {reason}")
        return False
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(1))
    return True



def exit_with(main):
    """Exits with main()'s status; a failed check is exit status 1 and one
    line."""
    try:
        sys.exit(main())
    except AssertionError as error:
        print(f"FAILED: {error}", flush=True)
        sys.exit(1)

def remove_leftovers():
    """Deletes the namespaces of earlier runs whose process is gone."""
    listing = run("ip", "netns", "list", check=False).stdout
    for name in re.findall(rf"^({PREFIX}(\d+)-\S+)", listing, re.M):
        if not os.path.exists(f"/proc/{name[1]}"):
            kill_namespace(name[0])


def kill_namespace(ns):
    pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    run("ip", "netns", "delete", ns, check=False)


class Lab:
    """A switch and hosts; close() removes them (use it as a context)."""

    def __init__(self):
        remove_leftovers()
        self.tag = f"{PREFIX}{os.getpid()}"
        self.switch = f"{self.tag}-sw"
        self.hosts = {}  # name -> (namespace, address, switch-side veth)
        self.processes = []
        run("ip", "netns", "add", self.switch)
        run("ip", "link", "add", "br0", "type", "bridge", ns=self.switch)
        run("ip", "link", "set", "br0", "up", ns=self.switch)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def add_host(self, name):
        """A namespace with lo and eth0 up on the switch; returns its address."""
        index = len(self.hosts) + 1
        ns = f"{self.tag}-{name}"
        address = f"{SUBNET}.{index}"
        port = f"{self.tag[-6:]}p{index}"  # interface names: 15 characters
        run("ip", "netns", "add", ns)
        run("ip", "link", "add", "eth0", "netns", ns, "type", "veth",
            "peer", "name", port, "netns", self.switch)
        run("ip", "link", "set", port, "master", "br0", "up", ns=self.switch)
        run("ip", "addr", "add", f"{address}/24", "dev", "eth0", ns=ns)
        run("ip", "link", "set", "eth0", "up", ns=ns)
        run("ip", "link", "set", "lo", "up", ns=ns)
        self.hosts[name] = (ns, address, port)
        return address

    def ns(self, name):
        return self.hosts[name][0]

    def address(self, name):
        return self.hosts[name][1]

    def start(self, host, args, **popen):
        """Starts a process on host; it is killed by close()."""
        process = subprocess.Popen(["ip", "netns", "exec", self.ns(host)] + args,
                                   **popen)
        self.processes.append(process)
        return process

    def exec(self, host, *args, check=True, timeout=120):
        return run(*args, ns=self.ns(host), check=check, timeout=timeout)

    def link(self, host, up):
        """Takes host's cable out (the switch port down) or puts it back."""
        run("ip", "link", "set", self.hosts[host][2], "up" if up else "down",
            ns=self.switch)

    def drop(self, host, on, probability=None):
        """Drops host's packets silently (all, or a random share), no reset."""
        match = (["-m", "statistic", "--mode", "random", "--probability",
                  str(probability)] if probability else [])
        for chain in ("INPUT", "OUTPUT"):
            rule = [chain, "-i" if chain == "INPUT" else "-o", "eth0"] + match
            self.exec(host, "iptables", "-A" if on else "-D", *rule, "-j", "DROP")

    def netem(self, host, *spec):
        """Adds a netem qdisc on host's side of its link; False if the kernel
        has no netem."""
        done = self.exec(host, "tc", "qdisc", "add", "dev", "eth0", "root",
                         "netem", *spec, check=False)
        if done.returncode == 0:
            return True
        if "unknown" in done.stderr:
            return False
        raise RuntimeError(f"tc netem on {host}: {done.stderr.strip()}")

    def netem_off(self, host):
        """Removes what netem() added."""
        self.exec(host, "tc", "qdisc", "del", "dev", "eth0", "root")

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        deadline = time.monotonic() + 10
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for ns, _, _ in self.hosts.values():
            kill_namespace(ns)
        kill_namespace(self.switch)
        self.hosts = {}
