"""advise: the seed's five-question framework plus the hybrid criteria, as data (rules.toml) and a small engine."""
from __future__ import annotations

import sys
import types

from ragft.advise.framework import advise
from ragft.advise.measurements import Measurements
from ragft.advise.profile import Profile
from ragft.advise.verdict import Verdict

__all__ = ["Measurements", "Profile", "Verdict", "advise"]


class _CallableModule(types.ModuleType):
    """Importing this package sets `ragft.advise` to the package, shadowing the function ragft exports lazily;
    calling the package calls the function, so `ragft.advise(profile)` works either way."""

    def __call__(self, *args, **kwargs) -> Verdict:
        return advise(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
