#!/usr/bin/env python3
"""Counts the primes in [BEGIN, END) by trial division: the Python documents'
prime counter, run by pfor's command executor once per chunk.

    pfor submit --executor command \\
        --command 'python3 examples/commands/count_primes.py {begin} {end}' \\
        --range 0:1e6 --wait

pfor replaces {begin} and {end} with each chunk's bounds, runs the script on
a worker started with --allow-commands, and adds up what it prints.
"""
import sys


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: count_primes.py BEGIN END")
    begin, end = int(sys.argv[1]), int(sys.argv[2])
    print(sum(1 for n in range(begin, end) if is_prime(n)))


if __name__ == "__main__":
    main()
