"""The bundled campaigns, shipped in the package as ``sla_toolkit._data`` (see setup.py)."""
