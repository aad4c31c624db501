"""The screened output projection picks the float32 projection's greedy token, and nothing else changes."""
from __future__ import annotations

import torch

from ragft.llm.base import GenerationRequest
from ragft.llm.generators.local import LocalGenerator
from ragft.llm.screened_head import ScreenedHead, greedy_decoding, install
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


def test_install_leaves_a_model_whose_generation_config_changes_logits():
    tokenizer = build_tokenizer()
    model = build_tiny_gemma(tokenizer.vocab_size)
    model.generation_config.repetition_penalty = 1.3
    assert install(model) is False
    assert isinstance(model.get_output_embeddings(), torch.nn.Linear)
    model.generation_config.repetition_penalty = 1.0
    assert install(model) is True and install(model) is True                  # idempotent
    assert isinstance(model.get_output_embeddings(), ScreenedHead)
