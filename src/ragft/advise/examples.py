"""The example product profiles shipped with ragft, drawn from the seed's own examples."""
from __future__ import annotations

import difflib
import tomllib
from importlib import resources
from pathlib import Path

from ragft.advise.profile import Profile, profile_from_mapping
from ragft.errors import InputError, NotFoundError


def _folder():
    return resources.files("ragft.advise").joinpath("examples")


def example_names() -> list[str]:
    return sorted(entry.name.removesuffix(".toml") for entry in _folder().iterdir() if entry.name.endswith(".toml"))


def example_data(name: str) -> dict:
    """The raw values of the example called `name` (see example_names())."""
    names = example_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(f"unknown example '{name}'{hint}; choose one of: {', '.join(names)}")
    return tomllib.loads(_folder().joinpath(f"{name}.toml").read_text(encoding="utf-8"))


def load_example(name: str) -> Profile:
    return profile_from_mapping(example_data(name), f"example {name}")


def load_profile_or_example(name: str | None) -> Profile:
    """A profile file, an example's name, or None for the empty profile."""
    from ragft.advise.profile import load_profile

    if name is None:
        return Profile()
    if Path(name).is_file():
        return load_profile(name)
    if name in example_names():
        return load_example(name)
    raise NotFoundError(f"--profile {name}: neither a profile file nor an example "
                        f"({', '.join(example_names())})")
