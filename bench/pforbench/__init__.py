"""pfor's comparisons with other tools, one module per comparison.

compare.py runs them (`python3 bench/compare.py --help`); bench/run runs
compare.py, integrate_compare.py, the fleet and the long jobs and writes
docs/BENCHMARKS.md.
"""
