"""Time of each analysis step of one cycle (no notebooks), on the sample and on larger generated data.

Run: .venv/bin/python benchmarks/cycle_run.py [n_leads ...]   (default: 20000 100000)
"""
from __future__ import annotations

import sys
import time
import tracemalloc

from sla_toolkit.datasets import GeneratorSettings, example_paths, generate_campaign
from sla_toolkit.pipeline import analyse, lead_data_from_frames, run_cycle


def _timed(label: str, function) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    function()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {seconds:.2f} s, peak traced memory {peak / 2**20:.0f} MB")


def main(sizes: list[int]) -> None:
    paths = example_paths()
    _timed("run_cycle on data/sample (with models)", lambda: run_cycle(paths.sla, paths.source))
    for n in sizes:
        campaign = generate_campaign(GeneratorSettings().with_expected_leads(n))
        data = lead_data_from_frames(campaign.spec, campaign.leads, campaign.spend)
        _timed(f"analyse {len(campaign.leads):,} generated leads (with models)",
               lambda: analyse(data, as_of=campaign.as_of))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [20_000, 100_000])
