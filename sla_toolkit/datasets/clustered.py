"""Generated clustered leads: campaigns whose leads convert alike (for the cluster-robust interval studies)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit


@dataclass(frozen=True)
class ClusteredDesign:
    """``clusters`` campaigns of about ``mean_size`` leads; campaign effects on the log-odds are N(0, ``spread``²)."""

    clusters: int = 40
    mean_size: int = 60
    base_log_odds: float = -2.2
    spread: float = 0.6

    def true_rate(self, draws: int = 2_000_000) -> float:
        """The population conversion rate (campaign effects integrated out), by Monte Carlo with a fixed seed."""
        effects = np.random.default_rng(12345).normal(0, self.spread, draws)
        return float(expit(self.base_log_odds + effects).mean())


def clustered_leads(seed: int, design: ClusteredDesign = ClusteredDesign()) -> pd.DataFrame:
    """One lead per row: ``campaign`` (its cluster), ``region`` (a descriptive segment of no effect), ``converted``."""
    rng = np.random.default_rng(seed)
    sizes = rng.poisson(design.mean_size, design.clusters) + 1
    effects = rng.normal(0, design.spread, design.clusters)
    campaign = np.repeat(np.arange(design.clusters), sizes)
    converted = rng.random(len(campaign)) < expit(design.base_log_odds + effects[campaign])
    region = np.repeat(rng.choice(["north", "south"], design.clusters), sizes)   # whole campaigns per region
    return pd.DataFrame({"campaign": [f"c{c:02d}" for c in campaign], "region": region, "converted": converted})


def cluster_coverage(seeds: range, design: ClusteredDesign = ClusteredDesign(), confidence: float = 0.95
                     ) -> tuple[float, float]:
    """Share of seeds whose naive (Wilson) and cluster-robust intervals cover the true rate."""
    from ..clustered import cluster_rate

    truth, naive, robust = design.true_rate(), [], []
    for seed in seeds:
        leads = clustered_leads(seed, design)
        fit = cluster_rate(leads["converted"].to_numpy(), leads["campaign"].to_numpy(), confidence)
        naive.append(fit.naive_low <= truth <= fit.naive_high)
        robust.append(fit.robust_low <= truth <= fit.robust_high)
    return float(np.mean(naive)), float(np.mean(robust))
