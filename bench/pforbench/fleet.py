"""The fleet: bench/fleet_bench's simulated workers against a fresh
pfor-coordinator, once per fleet size, each on a coordinator of its own so
that its memory is the fleet's alone."""

import json
import resource
import sys

from .harness import PforCluster, ToolError, run_command


def raise_file_limit():
    """Every stream holds a socket at each end: lift the soft limit on open
    files to the hard one, for this process and the children it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def run(bins, logdir, sizes, rounds, timeout):
    """One fleet_bench report (its --json) per number of streams in `sizes`;
    a fleet that fails gives {"streams": N, "error": why}."""
    limit = raise_file_limit()
    reports = []
    for streams in sizes:
        missing = [name for name in ("fleet_bench", "coordinator", "pfor")
                   if bins.get(name) is None]
        if missing:
            reports.append({"streams": streams, "error": "not built: "
                            + ", ".join(missing)})
            continue
        print(f"fleet: {streams} streams x 4 slots, {rounds} rounds of "
              f"200 ms chunks (open files: {limit})", file=sys.stderr,
              flush=True)
        cluster = PforCluster(bins, 0, logdir)
        try:
            cluster.start()
            coordinator = cluster.procs[0]
            out = run_command(
                [bins["fleet_bench"], "--coordinator", cluster.address,
                 "--coordinator-pid", str(coordinator.pid), "--streams",
                 str(streams), "--rounds", str(rounds), "--json"], timeout)
            reports.append(json.loads(out))
        except (ToolError, ValueError) as e:
            reports.append({"streams": streams, "error": str(e)})
        finally:
            cluster.stop()
        print("  " + describe(reports[-1]), file=sys.stderr, flush=True)
    return reports


def describe(report):
    """One line for a report."""
    if "utilisation" not in report:
        return f"{report['streams']} streams: {report.get('error')}"
    line = (f"{report['streams']} streams: utilisation "
            f"{report['utilisation']:.1%}, {report['dispatch_per_s']:.0f} "
            f"chunks/s, job {report['job_s']:.2f} s")
    if "coordinator_cpu_s" in report:
        line += (f", coordinator {report['coordinator_cpu_s']:.2f} s CPU "
                 f"({report['coordinator_cpu_s'] / report['job_s']:.0%} of a "
                 f"core), RSS {report['coordinator_rss_mib']:.0f} MiB")
    if "error" in report:
        line += f"; {report['error']}"
    return line
