"""For auditors: verify that the history is intact, replay it, check it against the rules."""

from __future__ import annotations

from grid_events.audit.verify import (
    Checkpoint,
    Problem,
    ProblemKind,
    VerificationReport,
    take_checkpoint,
    verify_aggregate,
    verify_store,
)

__all__ = [
    "Checkpoint",
    "Problem",
    "ProblemKind",
    "VerificationReport",
    "take_checkpoint",
    "verify_aggregate",
    "verify_store",
]
