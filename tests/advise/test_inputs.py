"""Profiles and measurements from files: a bad value is one line naming the file, the field and what is allowed."""
import pytest

from ragft.advise import Profile
from ragft.advise.measurements import load_measurements
from ragft.advise.profile import load_profile, profile_from_mapping
from ragft.errors import InputError, NotFoundError


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_toml_profile_loads_and_unset_fields_are_left_to_data(tmp_path):
    profile = load_profile(write(tmp_path, "p.toml", 'knowledge = "both"\nlatency_p95_s = 2\n'))
    assert (profile.knowledge, profile.latency_p95_s) == ("both", 2.0)
    assert "cost_ceiling_usd" in profile.left_to_data()


def test_a_yaml_profile_loads(tmp_path):
    profile = load_profile(write(tmp_path, "p.yaml", "knowledge: style\nstreaming_ok: yes\nlabeled_examples: 300\n"))
    assert (profile.knowledge, profile.streaming_ok, profile.labeled_examples) == ("style", True, 300)


def test_overrides_win_over_file_values(tmp_path):
    profile = load_profile(write(tmp_path, "p.toml", "knowledge_valid_months = 12\n"), {"knowledge_valid_months": 2})
    assert profile.knowledge_valid_months == 2


@pytest.mark.parametrize(
    "line, message",
    [
        ("latency_p95_s = -1", "p.toml: latency_p95_s = -1 is invalid: expected a number > 0 (seconds)"),
        ('knowledge = "pdfs"', "p.toml: knowledge = 'pdfs' is invalid: expected one of documents, style, both"),
        ('cost_ceiling_usd = "abc"',
         "p.toml: cost_ceiling_usd = 'abc' is invalid: expected a number >= 0 (USD per query)"),
        ('hallucination_tolerance = "zero"',
         "p.toml: hallucination_tolerance = 'zero' is invalid: expected one of creative, normal, zero-tolerance"),
        ("labeled_examples = 2.5", "p.toml: labeled_examples = 2.5 is invalid: expected a whole number >= 0"),
        ('two_systems_ok = "maybe"', "p.toml: two_systems_ok = 'maybe' is invalid: expected true or false"),
    ],
)
def test_a_bad_value_names_the_file_field_and_allowed_values(tmp_path, line, message):
    with pytest.raises(InputError) as error:
        load_profile(write(tmp_path, "p.toml", line + "\n"))
    assert str(error.value).endswith(message)
    assert "\n" not in str(error.value)


def test_an_unknown_key_is_rejected_with_the_closest_known_key(tmp_path):
    with pytest.raises(InputError, match=r"unknown key 'latency_p95' \(did you mean latency_p95_s\?\); known keys:"):
        load_profile(write(tmp_path, "p.toml", "latency_p95 = 2\n"))


def test_a_missing_profile_file_says_so(tmp_path):
    with pytest.raises(NotFoundError, match="profile file '.*nope.toml' not found"):
        load_profile(tmp_path / "nope.toml")


def test_malformed_toml_is_one_line(tmp_path):
    with pytest.raises(InputError, match="not valid TOML") as error:
        load_profile(write(tmp_path, "p.toml", "knowledge = [\n"))
    assert "\n" not in str(error.value)


def test_an_unsupported_file_type_is_rejected(tmp_path):
    with pytest.raises(InputError, match=r"must end in .toml, .yaml, .yml or .json"):
        load_profile(write(tmp_path, "p.txt", "knowledge = 'documents'\n"))


def test_flag_names_replace_field_names_in_messages():
    with pytest.raises(InputError, match=r"^--cost-ceiling = 'abc' is invalid"):
        profile_from_mapping({"cost_ceiling_usd": "abc"}, "", {"cost_ceiling_usd": "--cost-ceiling"})


def test_profiles_are_immutable():
    with pytest.raises(Exception):
        Profile(knowledge="documents").knowledge = "style"  # type: ignore[misc]


def test_measurements_load_per_system_tables(tmp_path):
    path = write(tmp_path, "m.toml", 'source = "eval run 7"\n[rag]\np95_latency_s = 3.1\n'
                                     '["fine-tuned"]\ncost_per_query_usd = 0.002\n')
    measurements = load_measurements(path)
    assert measurements.source == "eval run 7"
    assert measurements.get("rag", "p95_latency_s") == 3.1
    assert measurements.get("fine-tuned", "cost_per_query_usd") == 0.002
    assert measurements.get("hybrid", "hallucination_rate") is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("[rag]\nhallucination_rate = 1.5\n",
         "rag.hallucination_rate = 1.5 is invalid: expected a fraction between 0 and 1"),
        ("[rags]\np95_latency_s = 1\n", "unknown key 'rags' (did you mean rag?)"),
        ("[rag]\np95_latency = 1\n", "unknown key 'rag.p95_latency' (did you mean p95_latency_s?)"),
    ],
)
def test_bad_measurements_are_one_line_errors(tmp_path, text, message):
    with pytest.raises(InputError) as error:
        load_measurements(write(tmp_path, "m.toml", text))
    assert message in str(error.value)
