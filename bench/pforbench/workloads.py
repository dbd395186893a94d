"""The Python side: the documents' examples, written as a Python user would.
Top-level functions so that every pool can pickle them (by reference: the
pools' processes import this module)."""

import concurrent.futures
import math

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
