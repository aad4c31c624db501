"""ragft: should we build RAG, fine-tune, or both? Answered with evidence from your own data.

The library API is the product; the CLI and the web app are thin faces over it.
Names are resolved lazily so `import ragft` stays fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

# The advise package shares its name with its main function: bind the function eagerly, after the package
# import (which would otherwise leave `ragft.advise` pointing at the package). advise is light (pydantic only).
from ragft.advise import Measurements, Profile, Verdict, advise  # noqa: E402,F401 (re-exported)
from ragft.lazy import lazy_exports  # noqa: E402

_EXPORTS = {
    "RagftError": "ragft.errors",
    "Index": "ragft.rag.engine",
    "run_eval": "ragft.evaluate.runner",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted([*_EXPORTS, "Measurements", "Profile", "Verdict", "advise"])
