"""The shipped example profiles — five drawn from the seed's own examples, one for the demo's real bench —
and the verdict each must get."""
import pytest

from ragft.advise import advise
from ragft.advise.examples import example_names, load_example
from ragft.errors import InputError

EXPECTED = {
    "customer-support": ("RAG", "stop-at-q1"),
    "coding-assistant": ("Fine-tuning", "learned-style"),
    "legal-search": ("RAG with caching and streaming", "start-with-rag"),
    "medical-diagnosis": ("RAG plus validation layer", "start-with-rag"),
    "financial-advisor": ("RAG plus expert review", "stop-at-q1"),
}
# The demo's example leaves latency to data: ragft demo measures it.
LEFT_TO_DATA = {"python-docs-assistant": ["latency_p95_s"]}
EXPECTED["python-docs-assistant"] = ("RAG", "start-with-rag")


def test_six_examples_ship_with_the_package():
    assert example_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_gets_the_verdict_the_seed_gives_it(name):
    verdict = advise(load_example(name))
    assert (verdict.label, verdict.decided_by) == EXPECTED[name]
    assert verdict.left_to_data == LEFT_TO_DATA.get(name, [])


def test_an_unknown_example_name_suggests_the_closest():
    with pytest.raises(InputError, match=r"unknown example 'legal' \(did you mean legal-search\?\)"):
        load_example("legal")
