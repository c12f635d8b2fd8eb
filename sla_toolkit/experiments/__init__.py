"""Randomized tests inside the SLA cycle: arm-versus-control lifts, sample-ratio checks, test plans."""
from .analysis import evaluate_experiment, evaluate_experiments
from .estimates import Lift, SampleRatioCheck, mean_lift, proportion_lift, sample_ratio_check
from .findings import with_experiment_findings
from .power import leads_for_power
from .result import ArmComparison, ExperimentResult, ExperimentsResult, Verdict

__all__ = ["ArmComparison", "ExperimentResult", "ExperimentsResult", "Lift", "SampleRatioCheck", "Verdict",
           "evaluate_experiment", "evaluate_experiments", "leads_for_power", "mean_lift", "proportion_lift",
           "sample_ratio_check", "with_experiment_findings"]
