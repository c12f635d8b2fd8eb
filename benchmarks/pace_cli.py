"""How long `sla-toolkit pace` takes on the bundled sample (target: under 2 s wall clock).

Run: .venv/bin/python benchmarks/pace_cli.py
Prints the wall time of each of five runs of the real command (a fresh process each time, so
imports are included) and the best and median.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


def main() -> None:
    command = [sys.executable, "-m", "sla_toolkit", "pace", "--sla", str(SAMPLE / "sla.yaml"),
               "--source", str(SAMPLE / "source.yaml"), "--as-of", "2025-02-15"]
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    print("sla-toolkit pace on data/sample (3,637 leads), wall seconds per run: "
          + ", ".join(f"{t:.2f}" for t in times))
    print(f"best {min(times):.2f} s, median {statistics.median(times):.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
