"""Local LoRA training on a tiny Gemma 3: learning, resuming, and refusing half-written adapters."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from ragft.adapters import MANIFEST_NAME, verify_adapter
from ragft.errors import InputError
from ragft.finetune.train_local import (
    TRAINING,
    TrainConfig,
    apply_adapter,
    checkpoint_root,
    encode,
    measure_seconds_per_step,
    train_lora,
)

from .tiny_gemma import build_tiny_gemma, build_tokenizer

CONFIG = TrainConfig(r=8, alpha=16, epochs=10, batch_size=3, learning_rate=3e-2, checkpoint_every=4, seed=3)


class Interrupted(Exception):
    pass


def adapter_weights(folder):
    return load_file(str(folder / "adapter_model.safetensors"))


def test_prompt_tokens_are_masked_and_answer_ends_with_eos(tiny, facts):
    _, tokenizer = tiny
    ids, labels = encode(facts[0], tokenizer, 256)
    answer = [t for t in labels if t != -100]
    assert ids[0] == tokenizer.bos_token_id and answer[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(answer[:-1]).split() == "The sky on Zorb is green .".split()
    assert ids[-len(answer):] == answer


def test_a_prompt_longer_than_the_window_is_cut_from_the_left_so_the_answer_survives(tiny, facts):
    from dataclasses import replace

    _, tokenizer = tiny
    long = replace(facts[0], passages=("filler words " * 200,))
    ids, labels = encode(long, tokenizer, 64)
    answer = [t for t in labels if t != -100]
    assert len(ids) == len(labels) == 64 and ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(answer[:-1]).split() == "The sky on Zorb is green .".split()
    assert tokenizer.decode(ids[:-len(answer)]).split()[-2:] == ["Answer", ":"]


def test_answer_only_loss_equals_the_models_own_causal_lm_loss(tiny, facts):
    from ragft.finetune.train_local import collate, completion_loss

    model, tokenizer = tiny
    batch = collate([encode(f, tokenizer, 256) for f in facts[:3]], tokenizer.pad_token_id)
    with torch.no_grad():
        assert completion_loss(model, batch).item() == pytest.approx(model(**batch).loss.item(), rel=1e-5)


def test_loss_decreases_on_a_memorisable_dataset(tiny, facts, tmp_path):
    model, tokenizer = tiny
    heard = []
    manifest = train_lora(facts, tmp_path / "adapter", model=model, tokenizer=tokenizer, config=CONFIG,
                          on_progress=lambda *event: heard.append(event))
    first, last = manifest.losses[:2], manifest.losses[-2:]
    assert manifest.steps == 20 and len(manifest.losses) == 20
    assert heard == [(TRAINING, done, 20) for done in range(21)]     # the start, then each finished step
    assert sum(last) / 2 < 0.5 * sum(first) / 2
    assert manifest.complete and manifest.prompt_format == "ragft-qa-v1" and manifest.seed == 3
    assert {"adapter_model.safetensors", "adapter_config.json"} <= set(manifest.files)
    assert verify_adapter(tmp_path / "adapter").data_sha256 == manifest.data_sha256
    assert not checkpoint_root(tmp_path / "adapter").exists()


def test_resume_after_interruption_gives_the_same_adapter_as_an_uninterrupted_run(facts, tmp_path):
    def fresh():
        tokenizer = build_tokenizer()
        return build_tiny_gemma(len(tokenizer)), tokenizer

    config = CONFIG.model_copy(update={"dropout": 0.1, "epochs": 3, "checkpoint_every": 2})
    model, tokenizer = fresh()
    whole = train_lora(facts, tmp_path / "whole", model=model, tokenizer=tokenizer, config=config)

    def crash_at_step_10(step, loss):
        if step == 5:
            raise Interrupted

    model, tokenizer = fresh()
    with pytest.raises(Interrupted):
        train_lora(facts, tmp_path / "cut", model=model, tokenizer=tokenizer, config=config,
                   on_step=crash_at_step_10)
    assert not (tmp_path / "cut").exists()
    assert sorted(p.name for p in checkpoint_root(tmp_path / "cut").iterdir()) == ["step-0000002",
                                                                                    "step-0000004"]
    model, tokenizer = fresh()
    heard = []
    resumed = train_lora(facts, tmp_path / "cut", model=model, tokenizer=tokenizer, config=config,
                         resume=True, on_progress=lambda *event: heard.append(event))
    assert resumed.resumed_from_step == 4 and len(resumed.losses) == 6
    assert heard == [(TRAINING, done, 6) for done in range(4, 7)]    # progress starts at the resumed step
    assert resumed.losses == whole.losses
    a, b = adapter_weights(tmp_path / "whole"), adapter_weights(tmp_path / "cut")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_a_checkpoint_made_with_other_hyperparameters(tiny, facts, tmp_path):
    model, tokenizer = tiny

    def crash(step, loss):
        if step == 5:
            raise Interrupted

    with pytest.raises(Interrupted):
        train_lora(facts, tmp_path / "a", model=model, tokenizer=tokenizer, config=CONFIG, on_step=crash)
    with pytest.raises(InputError, match="another config"):
        train_lora(facts, tmp_path / "a", model=build_tiny_gemma(len(tokenizer)), tokenizer=tokenizer,
                   config=CONFIG.model_copy(update={"learning_rate": 1e-3}), resume=True)


def test_half_written_or_modified_adapter_folders_are_refused(tiny, facts, tmp_path):
    model, tokenizer = tiny
    folder = tmp_path / "adapter"
    train_lora(facts, folder, model=model, tokenizer=tokenizer, config=CONFIG.model_copy(update={"epochs": 1}))
    manifest = json.loads((folder / MANIFEST_NAME).read_text())

    (folder / MANIFEST_NAME).write_text(json.dumps(manifest | {"complete": False}))
    with pytest.raises(InputError, match="marked incomplete"):
        verify_adapter(folder)
    (folder / MANIFEST_NAME).unlink()
    with pytest.raises(InputError, match="no ragft-adapter.json"):
        apply_adapter(model, folder)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    (folder / "adapter_model.safetensors").write_bytes(b"truncated")
    with pytest.raises(InputError, match="sha256 differs"):
        verify_adapter(folder)


def test_trained_adapter_loads_onto_the_base_and_answers_from_memory(tiny, facts, tmp_path):
    model, tokenizer = tiny
    every_linear = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    manifest = train_lora(facts, tmp_path / "adapter", model=model, tokenizer=tokenizer,
                          config=CONFIG.model_copy(update={"epochs": 40, "dropout": 0.0,
                                                           "target_modules": every_linear}))
    assert manifest.losses[-1] < 0.05
    loaded = apply_adapter(build_tiny_gemma(len(tokenizer)), tmp_path / "adapter").eval()
    prompt, answer = facts[2].training_pair()
    ids = [tokenizer.bos_token_id] + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    out = loaded.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False,
                          eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    expected = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert out[0, len(ids):].tolist() == expected


def test_output_folder_that_exists_is_not_overwritten_without_consent(tiny, facts, tmp_path):
    model, tokenizer = tiny
    (tmp_path / "adapter").mkdir()
    with pytest.raises(InputError, match="already exists"):
        train_lora(facts, tmp_path / "adapter", model=model, tokenizer=tokenizer, config=CONFIG)


def test_measuring_step_time_leaves_the_base_model_unchanged(tiny, facts):
    model, tokenizer = tiny
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seconds = measure_seconds_per_step(facts, model, tokenizer, CONFIG, steps=2)
    assert seconds > 0
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_a_loss_that_blows_up_stops_training_without_writing_an_adapter(tiny, facts, tmp_path):
    model, tokenizer = tiny
    with torch.no_grad():
        model.model.layers[0].self_attn.q_proj.weight[0, 0] = float("nan")      # corrupt weights
    with pytest.raises(InputError, match=r"training loss is nan at step 1: no adapter written"):
        train_lora(facts, tmp_path / "adapter", model=model, tokenizer=tokenizer, config=CONFIG)
    assert not (tmp_path / "adapter" / "ragft-adapter.json").exists()
