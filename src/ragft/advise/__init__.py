"""advise: the seed's five-question framework plus the hybrid criteria, as data (rules.toml) and a small engine."""
from __future__ import annotations

from ragft.advise.framework import advise
from ragft.advise.measurements import Measurements
from ragft.advise.profile import Profile
from ragft.advise.verdict import Verdict

__all__ = ["Measurements", "Profile", "Verdict", "advise"]

