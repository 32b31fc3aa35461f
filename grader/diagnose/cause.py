"""A named cause: what the feedback says about a failure, and what statistics count."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Diagnosis:
    name: str
    hint: str
    blames: str = ""
    """Another contract name the mistake is in (a loop judged wrong because of its gradient):
    the hint holds only if that name is defined and fails its own checks."""
