"""Registries: lookup with one-line errors, test-scoped registration, lazy built-ins, entry-point plugins; and a
plugin package installed in a throwaway venv adds an embedder that `ragft index` uses, with no change to ragft."""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import ragft
from ragft.errors import InputError
from ragft.rag.embedders import EMBEDDERS, create_embedder
from ragft.registry import Registry
from ragft.testing import HashingEmbedder


def write_module(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def write_entry_points(folder: Path, dist: str, group: str, points: dict[str, str]) -> None:
    """A minimal installed distribution (dist-info with METADATA and entry_points.txt) on a sys.path folder."""
    info = folder / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in points.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}", encoding="utf-8")


def test_an_unknown_name_is_one_line_naming_the_registry_the_name_and_the_known_ones():
    registry = Registry("widget", builtins={"round": "builtins:round", "sorted": "builtins:sorted"})
    with pytest.raises(InputError) as error:
        registry.get("rounded")
    assert str(error.value) == "unknown widget 'rounded' (did you mean round?); choose one of: round, sorted"


def test_unknown_embedder_lists_every_built_in_without_importing_them():
    with pytest.raises(InputError) as error:
        create_embedder("no-such-embedder")
    assert str(error.value).startswith("unknown embedder 'no-such-embedder'; choose one of: ")
    assert {"minilm", "openai", "sentence-transformers", "static"} <= set(EMBEDDERS.names())


def test_registered_adds_a_factory_for_the_with_block_and_restores_the_previous_one():
    registry = Registry("widget", builtins={"round": "builtins:round"})
    with registry.registered("twice", lambda value: 2 * value):
        assert registry.create("twice", value=4) == 8 and "twice" in registry.names()
    assert "twice" not in registry and "twice" not in registry.names()
    with registry.registered("round", lambda number: "replaced"):
        assert registry.create("round", number=2.6) == "replaced"
    assert registry.create("round", number=2.6) == 3


def test_registered_removes_the_entry_even_when_the_block_raises():
    with pytest.raises(RuntimeError), EMBEDDERS.registered("doomed-hashing", HashingEmbedder):
        assert create_embedder("doomed-hashing").dim == 64
        raise RuntimeError("test body failed")
    assert "doomed-hashing" not in EMBEDDERS


def test_a_built_in_backend_is_imported_on_first_use_only(tmp_path, monkeypatch):
    write_module(tmp_path, "lazy_widget_backend", """
        LOADS = []
        LOADS.append("imported")

        def make(size=1):
            return ["widget"] * size
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("widget", builtins={"lazy": "lazy_widget_backend:make"})
    assert registry.names() == ["lazy"] and "lazy_widget_backend" not in sys.modules
    try:
        assert registry.create("lazy", size=2) == ["widget", "widget"]
        assert sys.modules["lazy_widget_backend"].LOADS == ["imported"]
        assert registry.create("lazy") == ["widget"] and sys.modules["lazy_widget_backend"].LOADS == ["imported"]
    finally:
        sys.modules.pop("lazy_widget_backend", None)


def test_entry_points_of_the_group_are_found_and_loaded_lazily_after_the_built_ins(tmp_path, monkeypatch):
    write_module(tmp_path, "widget_plugin", """
        class Gadget:
            def __init__(self, colour="red"):
                self.colour = colour
    """)
    write_entry_points(tmp_path, "widget-plugin", "ragft.test-widgets",
                       {"gadget": "widget_plugin:Gadget", "round": "widget_plugin:Gadget"})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("widget", builtins={"round": "builtins:round"}, group="ragft.test-widgets")
    try:
        assert registry.names() == ["gadget", "round"] and "widget_plugin" not in sys.modules
        assert registry.create("gadget", colour="blue").colour == "blue"
        assert registry.create("round", number=2.6) == 3          # a built-in wins over a plugin of that name
        assert Registry("widget", group="ragft.other-group").names() == []
    finally:
        sys.modules.pop("widget_plugin", None)


def test_a_plugin_that_fails_to_import_is_one_line_naming_its_package(tmp_path, monkeypatch):
    write_entry_points(tmp_path, "broken-plugin", "ragft.test-widgets", {"broken": "no_such_module_here:Thing"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError) as error:
        Registry("widget", group="ragft.test-widgets").get("broken")
    assert str(error.value) == ("widget 'broken' from broken-plugin (no_such_module_here:Thing) failed to load: "
                                "ModuleNotFoundError: No module named 'no_such_module_here'; "
                                "fix or uninstall that package")


PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "ragft-hashing-plugin"
version = "0.1.0"

[project.entry-points."ragft.embedders"]
plugin-hashing = "ragft_hashing_plugin:PluginHashingEmbedder"

[tool.setuptools]
py-modules = ["ragft_hashing_plugin"]
"""

PLUGIN_MODULE = """
from ragft.testing import HashingEmbedder


class PluginHashingEmbedder(HashingEmbedder):
    name = "plugin-hashing:v1"
    dim = 32
"""


def test_a_plugin_package_installed_in_a_venv_adds_an_embedder_that_ragft_index_uses(tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "pyproject.toml").write_text(PLUGIN_PYPROJECT, encoding="utf-8")
    (plugin / "ragft_hashing_plugin.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The venv sees this environment's packages (ragft's dependencies, pip, setuptools) through a .pth file,
    # so nothing is downloaded; what it installs goes into its own site-packages only.
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "parent-environment.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(Path(ragft.__file__).parents[1]),
           "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "RAGFT_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", str(plugin)],
                   check=True, env=env, capture_output=True)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "venv.md").write_text("# Virtual environments\n\nA virtual environment isolates packages.\n")
    (docs / "gil.md").write_text("# The GIL\n\nThe global interpreter lock lets one thread run bytecode.\n")

    def ragft_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(python), "-c", "import sys; from ragft.cli import main; main(sys.argv[1:])",
                               *args], check=False, env=env, capture_output=True, text=True)

    index = tmp_path / "index"
    built = ragft_cli("index", str(docs), "--index", str(index), "--embedder", "plugin-hashing", "--json")
    assert built.returncode == 0, built.stderr
    assert sorted(json.loads(built.stdout)["added"]) == ["gil.md", "venv.md"]
    meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
    assert (meta["embedder"], meta["embedder_id"], meta["dim"]) == ("plugin-hashing", "plugin-hashing:v1", 32)
    found = ragft_cli("search", "global interpreter lock", "--index", str(index), "--mode", "dense", "--json")
    assert found.returncode == 0, found.stderr
    assert {hit["doc_id"] for hit in json.loads(found.stdout)["hits"]} == {"gil.md", "venv.md"}
    assert "plugin-hashing" not in EMBEDDERS          # the plugin is installed in the venv only
