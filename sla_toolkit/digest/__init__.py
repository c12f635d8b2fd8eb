"""The daily two-sided digest (``sla-toolkit digest``): marketing -> sales and sales -> marketing.

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> run = run_digest(example_paths().sla, example_paths().source, as_of="2025-02-15", out=None)
>>> "Marketing -> sales" in run.text
True
"""
from .changes import Changes, compare_figures
from .model import Delivery, Digest, FollowUpWindow, MarketingSide, SalesSide, WaitingLead, build_digest
from .render import FORMATS, render
from .run import DigestRun, run_digest

__all__ = ["Changes", "Delivery", "Digest", "DigestRun", "FORMATS", "FollowUpWindow", "MarketingSide",
           "SalesSide", "WaitingLead", "build_digest", "compare_figures", "render", "run_digest"]
