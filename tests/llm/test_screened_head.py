"""The screened output projection picks the float32 projection's greedy token, and nothing else changes."""
from __future__ import annotations

import torch

from ragft.llm.base import GenerationRequest
from ragft.llm.generators.local import LocalGenerator
from ragft.llm.screened_head import ScreenedHead, changes_logits, greedy_decoding, install
from tests.finetune.tiny_gemma import FACTS, build_tiny_gemma, build_tokenizer


def near_tie_projection() -> tuple[torch.nn.Linear, torch.Tensor]:
    """Rows 0 and 1 round to the same float16 row, yet row 1's float32 logit is the larger: float16 alone would pick
    row 0 (the first of equal maxima); the float32 projection picks row 1."""
    generator = torch.Generator().manual_seed(3)
    weight = torch.randn(500, 64, generator=generator) * 0.01
    signs = torch.randn(64, generator=generator).sign()
    hidden = (signs * (0.5 + torch.rand(64, generator=generator))).reshape(1, 1, 64)
    weight[0] = (hidden[0, 0] * 0.01).half().float()                      # the clear winner, exact in float16 ...
    weight[1] = weight[0] + signs * 1e-6                                  # ... and a twin, a hair larger (< half ulp)
    projection = torch.nn.Linear(64, 500, bias=False)
    with torch.no_grad():
        projection.weight.copy_(weight)
    return projection, hidden


def test_a_near_tie_float16_gets_wrong_is_decided_in_float32():
    projection, hidden = near_tie_projection()
    assert torch.equal(projection.weight[0].half(), projection.weight[1].half())
    exact = projection(hidden)[0, 0]
    half = torch.nn.functional.linear(hidden.half(), projection.weight.half()).float()[0, 0]
    assert int(exact.argmax()) == 1 and int(half.argmax()) == 0          # the trap is real

    head = ScreenedHead(projection)
    with torch.inference_mode(), greedy_decoding():
        screened = head(hidden)[0, 0]
    assert int(screened.argmax()) == 1
    assert list(head.screened_rows) == [2]                                      # both twins, nothing else, recomputed
    assert torch.allclose(screened[:2], exact[:2], rtol=1e-6, atol=0)             # float32, up to its rounding
    others = torch.ones(500, dtype=torch.bool)
    others[:2] = False
    assert bool((screened[others] < exact[1]).all())


def test_outside_greedy_decoding_with_gradients_or_several_positions_the_float32_projection_runs():
    projection, hidden = near_tie_projection()
    head = ScreenedHead(projection)
    with torch.inference_mode():
        assert torch.equal(head(hidden), projection(hidden))                      # not inside greedy_decoding
    many = hidden.repeat(1, 3, 1)
    with torch.inference_mode(), greedy_decoding():
        assert torch.equal(head(many), projection(many))                          # a prefill without logits_to_keep
    with greedy_decoding():
        assert torch.equal(head(hidden), projection(hidden))                      # gradients on: training
    assert not head.screened_rows


def tiny_generators():
    tokenizer = build_tokenizer()
    plain = LocalGenerator(model=build_tiny_gemma(tokenizer.vocab_size), tokenizer=tokenizer, threads=1,
                           screened_head=False)
    screened = LocalGenerator(model=build_tiny_gemma(tokenizer.vocab_size), tokenizer=tokenizer, threads=1)
    return plain, screened


def test_greedy_answers_are_the_same_token_for_token_and_the_head_is_used():
    plain, screened = tiny_generators()
    for question, _ in FACTS:
        request = GenerationRequest(question, max_tokens=12)
        assert screened.generate(request).text == plain.generate(request).text
    head = screened.load()[0].get_output_embeddings()
    assert isinstance(head, ScreenedHead) and len(head.screened_rows) >= len(FACTS)
    assert not isinstance(plain.load()[0].get_output_embeddings(), ScreenedHead)


def test_sampled_answers_use_the_full_distribution():
    plain, screened = tiny_generators()
    request = GenerationRequest(FACTS[0][0], max_tokens=12, temperature=1.0, seed=7)
    assert screened.generate(request).text == plain.generate(request).text
    assert not screened.load()[0].get_output_embeddings().screened_rows


def test_a_generation_config_that_changes_logits_turns_screening_off_for_that_answer():
    plain, screened = tiny_generators()
    model = screened.load()[0]
    model.generation_config.repetition_penalty = 1.3
    assert changes_logits(model.generation_config)
    request = GenerationRequest(FACTS[0][0], max_tokens=12)
    screened.generate(request)
    assert not model.get_output_embeddings().screened_rows                     # installed, but not used
    model.generation_config.repetition_penalty = 1.0
    screened.generate(request)
    assert model.get_output_embeddings().screened_rows


def test_tiny_hidden_entries_that_float16_flushes_to_zero_are_inside_the_bound():
    """639 entries below float16's smallest subnormal (they become 0) outweigh one normal entry: the row that sees
    only them is the float32 winner, and float16 alone puts it last."""
    size = 640
    hidden = torch.full((1, 1, size), 2.0 ** -25.5)
    hidden[0, 0, 0] = 2.0 ** -14
    projection = torch.nn.Linear(size, 3, bias=False)
    with torch.no_grad():
        projection.weight.zero_()
        projection.weight[0, 1:] = 1.0
        projection.weight[1, 0] = 0.15
        projection.weight[2, 0] = -1.0
    exact = projection(hidden)[0, 0]
    assert int(exact.argmax()) == 0
    assert int(torch.nn.functional.linear(hidden.half(), projection.weight.half())[0, 0].argmax()) != 0
    with torch.inference_mode(), greedy_decoding():
        assert int(ScreenedHead(projection)(hidden)[0, 0].argmax()) == 0


def test_weights_beyond_float16_and_weights_edited_or_cast_after_install_get_the_float32_answer():
    projection, hidden = near_tie_projection()
    head = ScreenedHead(projection)
    with torch.no_grad():
        projection.weight[7] = hidden[0, 0] * 1e5                               # beyond float16's range
    with torch.inference_mode(), greedy_decoding():
        assert int(head(hidden)[0, 0].argmax()) == 7 and not head.screened_rows
    with torch.no_grad():
        projection.weight[7] = 0.0                                              # an edit in place: a new copy
        projection.weight[9] = hidden[0, 0] * 0.02
    with torch.inference_mode(), greedy_decoding():
        assert int(head(hidden)[0, 0].argmax()) == 9 and head.screened_rows
        head.double()                                                           # cast: float32 path only
        assert torch.equal(head(hidden.double()), torch.nn.functional.linear(hidden.double(), head.weight))


def test_install_keeps_the_model_s_weights_names_ties_and_saving(tmp_path):
    tokenizer = build_tokenizer()
    model = build_tiny_gemma(tokenizer.vocab_size)
    keys = set(model.state_dict())
    assert install(model) is True and install(model) is True                   # idempotent
    head = model.get_output_embeddings()
    assert isinstance(head, ScreenedHead) and head.weight is model.get_input_embeddings().weight
    assert set(model.state_dict()) == keys
    model.tie_weights()
    model.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "model.safetensors").is_file()


def test_install_skips_heads_it_cannot_screen():
    tokenizer = build_tokenizer()
    softcapped = build_tiny_gemma(tokenizer.vocab_size)
    softcapped.config.final_logit_softcapping = 30.0
    assert install(softcapped) is False
    half = build_tiny_gemma(tokenizer.vocab_size).half()
    assert install(half) is False
    assert type(half.get_output_embeddings()) is torch.nn.Linear
