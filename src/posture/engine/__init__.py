"""Turn (policies, inventory) into results. Imports no connector, store or report."""

from posture.engine.evaluate import evaluate, evaluate_policy
from posture.engine.testing import CaseOutcome, run_policy_tests

__all__ = ["CaseOutcome", "evaluate", "evaluate_policy", "run_policy_tests"]
