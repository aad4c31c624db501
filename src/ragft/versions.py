"""Installed versions of Python, ragft and named packages: what a run or training manifest records."""
from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version


def package_versions(packages: Sequence[str], with_platform: bool = False) -> dict[str, str]:
    """{"python", "ragft", ["platform",] each package: its version or "not installed"}."""
    import ragft

    found = {"python": platform.python_version(), "ragft": ragft.__version__}
    if with_platform:
        found["platform"] = platform.platform()
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
