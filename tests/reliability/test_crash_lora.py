"""SIGKILL during local LoRA training (tiny Gemma 3): `resume=True` continues from the last checkpoint and ends
with the same losses and adapter weights as an uninterrupted run."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import kill_after


ROOT = Path(__file__).resolve().parents[2]
TRAIN = """
import json, sys, time
from ragft.finetune.dataset import Example
from ragft.finetune.train_local import TrainConfig, train_lora
from tests.finetune.tiny_gemma import FACTS, build_tiny_gemma, build_tokenizer

tokenizer = build_tokenizer()
model = build_tiny_gemma(len(tokenizer))
config = TrainConfig(r=8, alpha=16, epochs=12, batch_size=3, learning_rate=3e-2, checkpoint_every=3, seed=3,
                     dropout=0.1)
manifest = train_lora([Example(prompt=q, completion=a) for q, a in FACTS], sys.argv[1], model=model,
                      tokenizer=tokenizer, config=config, resume=sys.argv[2] == "resume",
                      on_step=lambda step, loss: time.sleep(0.05))
print(json.dumps({"losses": manifest.losses, "resumed_from_step": manifest.resumed_from_step}))
"""


def _train(out: Path, mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", TRAIN, str(out), mode], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _checkpointed(out: Path):
    checkpoints = out.with_name(f"{out.name}.checkpoints")
    return lambda: any(checkpoints.glob("step-*/state.json"))


@pytest.mark.slow
def test_a_sigkilled_lora_training_resumes_to_the_same_adapter(tmp_path):
    from safetensors.torch import load_file

    whole = _train(tmp_path / "whole", "fresh")
    cut = tmp_path / "cut"
    assert kill_after([sys.executable, "-c", TRAIN, str(cut), "fresh"], _checkpointed(cut),
                      random.Random(5).uniform(0.0, 0.4), cwd=ROOT)
    assert not (tmp_path / "cut").exists()
    resumed = _train(tmp_path / "cut", "resume")
    assert resumed["resumed_from_step"] > 0
    assert resumed["losses"] == whole["losses"]
    a = load_file(str(tmp_path / "whole" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
