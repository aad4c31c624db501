"""The shipped catalog is sourced and dated; user price files merge over it and fail loudly when incomplete."""
from __future__ import annotations

import pytest

from ragft.costs.prices import load_catalog
from ragft.errors import InputError, NotFoundError


def test_every_shipped_row_names_an_https_source_and_a_date():
    catalog = load_catalog()
    rows = catalog.rows()
    assert len(rows) >= 20
    for section, row in rows:
        assert row.source.startswith("https://"), (section, row.name)
        assert row.as_of.year >= 2024, (section, row.name)
        assert row.confidence in ("recalled", "verify")


def test_fine_tuned_inference_costs_one_and_a_half_to_two_times_the_base_model():
    catalog = load_catalog()
    for name, ft in catalog.fine_tuning.items():
        base = catalog.chat[name]
        assert 1.5 <= ft.input_per_1m / base.input_per_1m <= 2.0, name
        assert 1.5 <= ft.output_per_1m / base.output_per_1m <= 2.0, name


def test_user_price_file_adds_rows_and_replaces_same_named_rows(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[chat]]\nname = "gpt-4o-mini"\nprovider = "openai"\ninput_per_1m = 0.1\noutput_per_1m = 0.5\n'
        'tokenizer = "o200k_base"\nsource = "our contract"\nas_of = 2026-10-01\n'
        '[[chat]]\nname = "house-model"\nprovider = "us"\ninput_per_1m = 1\noutput_per_1m = 2\n'
        'tokenizer = "chars/4"\nsource = "internal"\nas_of = 2026-10-01\n'
    )
    catalog = load_catalog(path)
    assert catalog.chat["gpt-4o-mini"].input_per_1m == 0.1
    assert catalog.chat["gpt-4o-mini"].confidence == "user"
    assert catalog.chat["house-model"].output_per_1m == 2
    assert catalog.chat["gpt-4o"].input_per_1m == load_catalog().chat["gpt-4o"].input_per_1m
    assert catalog.files[-1] == str(path)


def test_price_file_missing_a_column_names_file_row_and_field(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[[chat]]\nname = "x"\nprovider = "p"\ninput_per_1m = 1\ntokenizer = "chars/4"\n'
                    'source = "s"\nas_of = 2026-01-01\n')
    with pytest.raises(InputError) as error:
        load_catalog(path)
    message = str(error.value)
    assert str(path) in message and "[[chat]] #1 (x)" in message
    assert "output_per_1m" in message and "missing column" in message
    assert "\n" not in message


def test_price_file_with_unknown_section_or_bad_toml_is_rejected(tmp_path):
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[[gpus]]\nname = "x"\n')
    with pytest.raises(InputError, match=r"unknown section \[\[gpus\]\]"):
        load_catalog(unknown)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[chat]\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_catalog(bad)
    with pytest.raises(NotFoundError, match="does not exist"):
        load_catalog(tmp_path / "absent.toml")


def test_unknown_model_lists_close_matches():
    catalog = load_catalog()
    with pytest.raises(NotFoundError) as error:
        catalog.generation("gpt4o-mini")
    assert "did you mean gpt-4o-mini" in str(error.value)
    with pytest.raises(NotFoundError, match="fine-tunable model 'claude-sonnet-4'"):
        catalog.generation("claude-sonnet-4", fine_tuned=True)


def test_self_hosted_price_per_token_follows_from_gpu_hour_and_throughput(catalog):
    price = catalog.generation("gpu-a")
    # $3.60/h over 1,000 output tok/s = 3.6 / 3.6M tokens = $1 per 1M; input at 10,000 tok/s = $0.10 per 1M
    assert price.output_per_1m == pytest.approx(1.0)
    assert price.input_per_1m == pytest.approx(0.1)
