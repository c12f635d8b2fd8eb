"""Time of each analysis step of one cycle (no notebooks), on the sample and on larger generated data.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cycle_run.py [n_leads ...]   (default: 20000 100000)

Nothing is traced (tracemalloc inflated the times about fivefold): each step's wall time comes from
``analyse(..., timings=...)`` and memory is the process's peak resident set (``getrusage``), which
only grows, so it is printed after each size. For the whole ``sla-toolkit run`` (notebooks and HTML
included) against a baseline notebook, use ``benchmarks/cycle.py``.
"""
from __future__ import annotations

import resource
import sys
import time

from sla_toolkit.datasets import GeneratorSettings, example_paths, generate_campaign
from sla_toolkit.pipeline import analyse, lead_data_from_frames, run_cycle


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report(label: str, seconds: float, timings: dict[str, float]) -> None:
    steps = ", ".join(f"{name} {value:.2f}" for name, value in timings.items())
    print(f"{label}: {seconds:.2f} s ({steps}); peak RSS of this process so far {_peak_rss_mib():.0f} MiB",
          flush=True)


def main(sizes: list[int]) -> None:
    paths = example_paths()
    started = time.perf_counter()
    run_cycle(paths.sla, paths.source)
    _report("run_cycle on data/sample (with models, reading included)", time.perf_counter() - started, {})
    for n in sizes:
        campaign = generate_campaign(GeneratorSettings().with_expected_leads(n))
        data = lead_data_from_frames(campaign.spec, campaign.leads, campaign.spend)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        analyse(data, as_of=campaign.as_of, timings=timings)
        _report(f"analyse {len(campaign.leads):,} generated leads (with models)", time.perf_counter() - started,
                timings)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [20_000, 100_000])
