"""The public face: ragft.advise(profile) -> Verdict, whether or not the ragft.advise package was imported first."""
import importlib

import ragft
from ragft.cli.demo import _advise_examples


def test_ragft_advise_is_callable_after_the_package_is_imported():
    importlib.import_module("ragft.advise")
    verdict = ragft.advise(ragft.Profile(knowledge_valid_months=1))
    assert isinstance(verdict, ragft.Verdict)
    assert verdict.stopped_at == "q1"


def test_from_ragft_import_advise_profile_verdict():
    from ragft import Profile, Verdict, advise

    assert isinstance(advise(Profile(knowledge="documents")), Verdict)


def test_demo_prints_a_row_per_example(capsys):
    _advise_examples()
    out = capsys.readouterr().out
    for name in ("coding-assistant", "customer-support", "financial-advisor", "legal-search", "medical-diagnosis",
                 "python-docs-assistant"):
        assert name in out
