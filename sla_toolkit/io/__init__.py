"""Readers and the source mapping: the user's files in, the canonical lead table out."""
from .leads import LeadData, load_leads
from .mapping import SourceMapping, load_mapping
from .quality import DataQuality

__all__ = ["DataQuality", "LeadData", "SourceMapping", "load_leads", "load_mapping"]
