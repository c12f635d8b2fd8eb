"""The bundled sample campaign (``data/sample`` in git, shipped as package data; written by
``data/generate_sample.py``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..bundled import sample_folder
from .writers import CampaignPaths

if TYPE_CHECKING:  # io sits above datasets' dependencies; import it only when loading
    from ..io import LeadData

SAMPLE_FOLDER = sample_folder()


def example_paths() -> CampaignPaths:
    """Paths of the sample campaign's ``sla.yaml``, ``source.yaml``, ``leads.csv`` and ``spend.csv``.

    Examples
    --------
    >>> example_paths().leads.name
    'leads.csv'
    """
    return CampaignPaths.in_folder(SAMPLE_FOLDER)


def load_example_leads() -> "LeadData":
    """Load the sample campaign through the normal ingest path (``sla_toolkit.io.load_leads``)."""
    from ..io import load_leads

    paths = example_paths()
    return load_leads(paths.sla, paths.source)
