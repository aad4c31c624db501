"""Manifests record installed versions; a package that is missing says so instead of failing the run."""
from __future__ import annotations

import platform
from importlib.metadata import version

from ragft import __version__
from ragft.versions import package_versions


def test_versions_name_each_package_and_say_which_are_missing():
    found = package_versions(["numpy", "no-such-package-ragft"])
    assert found == {"python": platform.python_version(), "ragft": __version__, "numpy": version("numpy"),
                     "no-such-package-ragft": "not installed"}
    assert package_versions([], with_platform=True)["platform"] == platform.platform()
