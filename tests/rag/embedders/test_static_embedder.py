"""The static embedder: a token table distilled from MiniLM, cached atomically, embedding by weighted mean."""
from __future__ import annotations

import numpy as np
import pytest

from ragft.errors import InputError
from ragft.rag.embedders import create_embedder
from ragft.rag.embedders.bundled import MINILM_SHA256
from ragft.rag.embedders.static import distill_table, save_atomic, sif_weights


@pytest.mark.slow
def test_distilled_row_is_minilm_embedding_of_the_one_token_text(minilm):
    token_ids = [minilm.tokenizer.token_to_id(word) for word in ("python", "database", "river")]
    rows = distill_table(minilm.bert, minilm.tokenizer.token_to_id("[CLS]"), minilm.tokenizer.token_to_id("[SEP]"), token_ids)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    assert np.allclose(rows, minilm.embed(["python", "database", "river"]), atol=1e-5)


@pytest.mark.slow
def test_static_vectors_are_unit_length_and_match_minilm_width(static):
    vectors = static.embed(["Python lists are mutable.", "Debian is a free operating system."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_static_puts_paraphrases_closer_than_unrelated_text(static):
    anchor, paraphrase, unrelated = static.embed(
        ["How do I reset my password?", "I forgot my password, how can I change it?", "The cat sat on the mat."]
    )
    assert anchor @ paraphrase > anchor @ unrelated + 0.3


@pytest.mark.slow
def test_text_with_no_tokens_gets_the_zero_vector_and_order_is_kept(static):
    vectors = static.embed(["river bank", "", "river bank"])
    assert not vectors[1].any()
    assert np.allclose(vectors[0], vectors[2])


@pytest.mark.slow
def test_static_name_says_distilled_from_which_weights_and_how_weighted(static):
    assert static.name == f"static:all-MiniLM-L6-v2-distilled:{MINILM_SHA256[:12]}:sif"


def test_input_table_variant_is_named_honestly():
    embedder = create_embedder("static", table="input", weighting="none")
    assert embedder.name.startswith("static:all-MiniLM-L6-v2-input:")
    assert embedder.embed(["hello world"]).shape == (1, 384)


def test_unknown_static_option_is_refused_with_the_choices():
    with pytest.raises(InputError, match="choose one of distilled, input"):
        create_embedder("static", table="glove")


def test_sif_weights_frequent_words_less_than_rare_ones():
    weights = sif_weights(30522)
    the, rare = 1996, 25000
    assert weights[the] < 0.5 * weights[rare]


def test_atomic_save_leaves_no_partial_file_when_writing_fails(tmp_path):
    target = tmp_path / "table.npy"
    unpicklable = np.array([(x for x in ())], dtype=object)
    with pytest.raises(TypeError):
        save_atomic(target, unpicklable)
    assert list(tmp_path.iterdir()) == []
    save_atomic(target, np.ones((2, 3), dtype=np.float32))
    assert np.load(target).shape == (2, 3)
