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
    cause: bool = True
    """The hint states a cause that its witness reproduced (a catalogued mistake's output, the
    reference on a variant, a transformation of the expected output matched on the case); False
    where it says only what was observed, in words true by construction."""
