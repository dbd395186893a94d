"""Plain C++ baselines (OpenMP loops in bench/*_openmp.cc), compiled on
first use into BUILD/bench/ and again whenever their source is newer."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(build_dir, name, flags):
    """Compiles bench/NAME.cc with g++ (or $CXX) and `flags`; returns the
    binary's path."""
    source = os.path.join(HERE, name + ".cc")
    binary = os.path.join(build_dir, "bench", name)
    if (os.path.exists(binary)
            and os.path.getmtime(binary) >= os.path.getmtime(source)):
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    argv = [os.environ.get("CXX", "g++"), "-std=c++20", *flags, "-Wall",
            "-Wextra", source, "-o", binary]
    print("building the baseline: " + " ".join(argv), file=sys.stderr)
    subprocess.run(argv, check=True)
    return binary
