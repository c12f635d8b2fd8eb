"""What worked / what to adjust: evidence-gated findings and the next-cycle SLA proposal."""
from .inputs import FindingInputs, FollowUpEvidence, PacingEvidence
from .model import Confidence, Evidence, Finding, Findings, NoEvidence
from .proposal import NextCycleProposal, ProposalInputs, RateEstimateView, propose_next_cycle
from .rules import derive_findings

__all__ = ["Confidence", "Evidence", "Finding", "FindingInputs", "Findings", "FollowUpEvidence",
           "NextCycleProposal", "NoEvidence", "PacingEvidence", "ProposalInputs", "RateEstimateView",
           "derive_findings", "propose_next_cycle"]
