"""The paired notebooks, shipped in the package as ``sla_toolkit._notebooks`` (see setup.py)."""
