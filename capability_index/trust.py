"""The trust policy's public names in one import (stable surface).

- posterior math: :mod:`capability_index.posterior`
- ranking and how many to ask: :mod:`capability_index.ranking`
- consensus over redundant answers: :mod:`capability_index.consensus`
- calibration of self-reported confidence: :mod:`capability_index.calibration`
- on-off detection (vetting policy): :mod:`capability_index.vetting`
"""

from micromarket.capability_index.calibration import bucket_counts, calibrated_confidence, calibration
from micromarket.capability_index.consensus import choose, consensus, consensus_evidence, normalize_text
from micromarket.capability_index.posterior import (
    DEFAULT_PENALTY, EVIDENCE_WEIGHTS, MAX_WEIGHT, NEWCOMER_PRIOR_ALPHA, NEWCOMER_PRIOR_BETA,
    PRIOR_ALPHA, PRIOR_BETA, RELIABILITY_KINDS, VERIFIED_KINDS, Posterior, check_kind, check_unit, check_weight,
    decay_counts, decay_factor, evidence_delta, make_posterior, prior,
)
from micromarket.capability_index.ranking import (
    STATUSES, Candidate, RankOptions, accuracy_of, choose_k, prob_leader_best, rank, sharpen,
)
from micromarket.capability_index.vetting import sudden_drop

__all__ = [
    "DEFAULT_PENALTY", "EVIDENCE_WEIGHTS", "MAX_WEIGHT", "NEWCOMER_PRIOR_ALPHA", "NEWCOMER_PRIOR_BETA",
    "PRIOR_ALPHA", "PRIOR_BETA", "RELIABILITY_KINDS", "STATUSES", "VERIFIED_KINDS", "Candidate", "Posterior",
    "RankOptions", "accuracy_of", "bucket_counts", "calibrated_confidence", "calibration", "choose", "check_kind", "check_unit", "check_weight", "choose_k", "consensus",
    "consensus_evidence", "decay_counts", "decay_factor", "evidence_delta", "make_posterior", "normalize_text", "prior",
    "prob_leader_best", "rank", "sharpen", "sudden_drop",
]
