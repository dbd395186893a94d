"""d.: cos integrated over [0, pi/2] by the midpoint rule, in pure Python
(joblib, multiprocessing; no numpy) against `pfor run integrate`."""

import math
import multiprocessing
import sys

from .harness import (Comparison, Tool, check_close, fmt_count, joblib,
                      measure, parse_float, run_command)
from .workloads import integrate_piece, integration_pieces


def compare(ctx):
    procs, points, timeout = ctx.procs, ctx.points, ctx.timeout
    points_text = fmt_count(points)
    pieces = integration_pieces(points, procs)

    def mp_integrate():
        with multiprocessing.Pool(procs) as pool:
            return math.fsum(pool.map(integrate_piece, pieces))

    def joblib_integrate():
        return math.fsum(joblib.Parallel(n_jobs=procs)(
            joblib.delayed(integrate_piece)(p) for p in pieces))

    tools = [
        Tool("pfor-run", f"pfor run integrate --points {points_text}",
             lambda: parse_float(run_command(
                 [ctx.pfor, "run", "integrate", "--param", "a=0", "--param",
                  "b=pi/2", "--points", str(points), *ctx.threads,
                  "--no-progress"], timeout), "pfor run"), ctx.no_pfor),
        Tool("joblib", f"joblib.Parallel(n_jobs={procs}), pure Python",
             joblib_integrate, ctx.no_joblib, in_process=True),
        Tool("mp-pool", f"multiprocessing.Pool({procs}), pure Python",
             mp_integrate, in_process=True),
    ]
    print(f"d. integrate cos over [0, pi/2], {points_text} points",
          file=sys.stderr)
    measure("d", tools, ctx.repeat, timeout)
    return [Comparison(
        "d", f"Integral of cos over [0, pi/2], midpoint rule, "
        f"{points_text} points (= 1)", tools[0], tools[1:],
        check_close(1.0, 1e-6),
        [f"Python: a plain loop over {len(pieces)} pieces, no numpy; "
         "pool creation included as in c."])]
