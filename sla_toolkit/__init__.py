"""sla_toolkit: did marketing and sales meet their SLA, what worked, and what to adjust next cycle."""
from .errors import SlaToolkitError, SourceError, SpecError
from .spec import SlaSpec, load_spec

__all__ = ["SlaSpec", "SlaToolkitError", "SourceError", "SpecError", "load_spec"]
__version__ = "0.1.0"
