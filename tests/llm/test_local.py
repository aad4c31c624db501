"""The local generator answers from a passage with the real Gemma 3 270M (loaded once per session) and stops."""
from __future__ import annotations

import pytest

from ragft.errors import NotFoundError
from ragft.llm import GenerationRequest, create_generator
from ragft.llm.base import Passage
from ragft.llm.local_model import cache_dir, load_causal_lm, resolve_base


@pytest.fixture(scope="session")
def gemma():
    return load_causal_lm("gemma3-270m")


@pytest.fixture(scope="session")
def local_generator(gemma):
    model, tokenizer = gemma
    return create_generator("local", model=model, tokenizer=tokenizer)


@pytest.mark.slow
def test_local_gemma_answers_a_one_sentence_question_from_the_passage_and_stops(local_generator):
    request = GenerationRequest(
        "What year did the Eiffel Tower open?",
        (Passage(1, "p1", "The Eiffel Tower in Paris opened to the public in 1889 for the World's Fair."),),
        max_tokens=48,
    )
    answer = local_generator.generate(request)
    assert "1889" in answer.text
    assert "Question:" not in answer.text and "\n\n" not in answer.text
    assert answer.output_tokens < 40 and answer.input_tokens > 50
    assert "".join(local_generator.stream(request)) == answer.text


@pytest.mark.slow
def test_the_screened_head_gives_real_gemma_s_float32_answers(gemma):
    model, tokenizer = gemma
    screened = create_generator("local", model=model, tokenizer=tokenizer)
    plain = create_generator("local", model=model, tokenizer=tokenizer, screened_head=False)
    passage = (Passage(1, "p1", "Python's colon after if, while, def and class makes blocks easier to read."),)
    for request in (GenerationRequest("Who designed the Python language?", max_tokens=24),
                    GenerationRequest("Why does Python need a colon after if?", passage, max_tokens=24)):
        assert screened.generate(request).text == plain.generate(request).text
    assert len(model.get_output_embeddings().screened_rows) >= 2


@pytest.mark.slow
def test_bundled_gemma_is_cached_as_a_plain_hugging_face_folder(gemma):
    folder = resolve_base("gemma3-270m")
    assert folder.parent == cache_dir() / "models" and folder.name.startswith("gemma3-270m-a5fd3b62230a")
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert "quantization_config" not in (folder / "config.json").read_text()


@pytest.fixture
def tiny_gemma_folder(gemma, tmp_path):
    """A 2-layer Gemma 3 with random weights and the real tokenizer, saved as a local Hugging Face folder."""
    from transformers import AutoConfig, AutoModelForCausalLM

    source = resolve_base("gemma3-270m")
    config = AutoConfig.from_pretrained(source)
    config.update({"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                   "num_key_value_heads": 1, "head_dim": 16, "layer_types": ["full_attention"] * 2})
    AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path / "tiny")
    gemma[1].save_pretrained(tmp_path / "tiny")
    return tmp_path / "tiny"


@pytest.mark.slow
def test_a_lora_adapter_saved_by_peft_loads_on_top_of_a_local_model_folder(tiny_gemma_folder, tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model

    model, _ = load_causal_lm(str(tiny_gemma_folder))
    adapted = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    adapted.save_pretrained(tmp_path / "adapter")
    loaded, tokenizer = load_causal_lm(str(tiny_gemma_folder), adapter=tmp_path / "adapter")
    assert isinstance(loaded, PeftModel) and not loaded.training
    assert tokenizer("Hello")["input_ids"][0] == tokenizer.bos_token_id
    prompts: list[str] = []
    generator = create_generator("local", base=str(tiny_gemma_folder), adapter=tmp_path / "adapter",
                                 prompt=lambda request: prompts.append(request.question) or f"Q: {request.question}\nA:")
    answer = generator.generate(GenerationRequest("Hi?", max_tokens=3))
    assert generator.model_name.endswith("+adapter") and set(prompts) == {"Hi?"}
    assert answer.output_tokens <= 3 and answer.input_tokens == len(tokenizer("Q: Hi?\nA:")["input_ids"])


def test_unknown_base_model_names_the_choices():
    with pytest.raises(NotFoundError, match="gemma3-270m"):
        resolve_base("no-such-model")


def test_adapter_folder_without_config_is_rejected_before_loading(tmp_path):
    with pytest.raises(NotFoundError, match="adapter_config.json"):
        from ragft.llm.local_model import _with_adapter

        _with_adapter(object(), tmp_path)


def test_one_thread_generation_gives_the_tokens_of_plain_two_thread_generate_and_restores_threads():
    """The CPU speed-up (one torch thread per generation) must not change a greedy answer, token for token."""
    import torch

    from tests.finetune.tiny_gemma import FACTS, build_tiny_gemma, build_tokenizer

    tokenizer = build_tokenizer()
    model = build_tiny_gemma(len(tokenizer))

    def prompt(request):
        return f"Question: {request.question} Answer:"

    generator = create_generator("local", model=model, tokenizer=tokenizer, prompt=prompt, threads=1)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for question, _ in FACTS:
            inputs = tokenizer(prompt(GenerationRequest(question)), return_tensors="pt")
            with torch.inference_mode():
                plain = model.generate(**inputs, max_new_tokens=12, do_sample=False, top_p=None, top_k=None,
                                       pad_token_id=tokenizer.pad_token_id)
            new = plain[0, inputs["input_ids"].shape[1]:]
            answer = generator.generate(GenerationRequest(question, max_tokens=12))
            assert torch.get_num_threads() == 2
            assert answer.output_tokens == len(new) > 0 and answer.text.strip()
            assert answer.text.strip() == tokenizer.decode(new, skip_special_tokens=True).strip()
    finally:
        torch.set_num_threads(previous)


def test_local_generator_refuses_zero_threads():
    from ragft.errors import InputError

    with pytest.raises(InputError, match="threads=0"):
        create_generator("local", model=object(), tokenizer=object(), threads=0)


def test_local_generator_threads_auto_takes_the_free_cores_once(monkeypatch):
    samples = iter([2, 1])
    monkeypatch.setattr("ragft.llm.generators.local.free_cores", lambda: next(samples))
    generator = create_generator("local", model=object(), tokenizer=object())
    assert generator.threads_option == "auto"
    assert (generator.threads, generator.decode_threads) == (2, 2)
    assert generator.threads == 2          # sampled once: the second sample (1) is never taken
    fixed = create_generator("local", model=object(), tokenizer=object(), threads="2", decode_threads=1)
    assert (fixed.threads, fixed.decode_threads) == (2, 1)


def test_local_generator_decodes_on_decode_threads_after_the_prompt_with_the_same_text():
    """The prompt's forward pass runs on `threads`, every later step on `decode_threads`; greedy text is the same."""
    import torch

    from tests.finetune.tiny_gemma import FACTS, build_tiny_gemma, build_tokenizer

    tokenizer = build_tokenizer()
    model = build_tiny_gemma(len(tokenizer))
    seen: list[int] = []
    model.register_forward_pre_hook(lambda module, args: seen.append(torch.get_num_threads()))

    def prompt(request):
        return f"Question: {request.question} Answer:"

    question = FACTS[0][0]
    texts = {}
    for threads, decode in ((2, 1), (1, None), (2, 2)):
        seen.clear()
        generator = create_generator("local", model=model, tokenizer=tokenizer, prompt=prompt, threads=threads,
                                     decode_threads=decode)
        texts[(threads, decode)] = generator.generate(GenerationRequest(question, max_tokens=8)).text
        assert len(seen) > 2
        assert seen[0] == threads and set(seen[1:]) == {decode or threads}
    assert len(set(texts.values())) == 1 and texts[(2, 1)].strip()


@pytest.mark.parametrize("option", ["threads", "decode_threads"])
def test_local_generator_refuses_thread_counts_that_are_not_whole_numbers(option):
    from ragft.errors import InputError

    for bad in ("two", -1, True):
        with pytest.raises(InputError, match=f"{option}="):
            create_generator("local", model=object(), tokenizer=object(), **{option: bad})


@pytest.fixture
def tiny_folder(tmp_path):
    """The in-process tiny Gemma 3 and its word-level tokenizer, saved as a local Hugging Face folder."""
    from tests.finetune.tiny_gemma import build_tiny_gemma, build_tokenizer

    tokenizer = build_tokenizer()
    build_tiny_gemma(len(tokenizer)).save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    return tmp_path / "tiny"


def test_within_base_models_kept_the_folder_is_read_once_and_each_load_gets_its_own_equal_weights(
        tiny_folder, tmp_path, monkeypatch):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ragft.llm.local_model import base_models_kept

    reads = []
    read = AutoModelForCausalLM.from_pretrained.__func__
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained",
                        classmethod(lambda cls, *a, **kw: reads.append(a[0]) or read(cls, *a, **kw)))
    fresh, _ = load_causal_lm(str(tiny_folder))
    ids = torch.tensor([[2, 5, 6, 7]])
    with torch.inference_mode():
        expected = fresh(input_ids=ids).logits
    adapted = get_peft_model(fresh, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM",
                                               init_lora_weights=False))    # random B: the adapter changes logits
    adapted.save_pretrained(tmp_path / "adapter")
    with torch.inference_mode():
        expected_adapted = adapted(input_ids=ids).logits

    with base_models_kept():
        first, tokenizer = load_causal_lm(str(tiny_folder))
        with base_models_kept():    # nested: the outer block's copy
            tuned, shared_tokenizer = load_causal_lm(str(tiny_folder), adapter=tmp_path / "adapter")
        get_peft_model(first, LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM"))   # in place
        again, _ = load_causal_lm(str(tiny_folder))
        with torch.inference_mode():
            assert torch.equal(again(input_ids=ids).logits, expected)        # untouched by the LoRA put into `first`
            assert torch.equal(tuned(input_ids=ids).logits, expected_adapted)
            assert not torch.equal(expected_adapted, expected)
    assert len(reads) == 2 and shared_tokenizer is tokenizer      # one read before the block, one inside it
    assert not any("lora" in name for name, _ in again.named_modules())
    load_causal_lm(str(tiny_folder))
    assert len(reads) == 3                                          # after the block: read from the folder again


def test_copies_share_only_the_token_embeddings_and_training_one_leaves_them_as_they_were(tiny_folder):
    import torch
    from peft import LoraConfig, get_peft_model

    from ragft.llm.local_model import base_models_kept
    from ragft.llm.screened_head import _half_copy, install

    with base_models_kept():
        first, _ = load_causal_lm(str(tiny_folder))
        second, _ = load_causal_lm(str(tiny_folder))
    embedding = first.get_input_embeddings().weight
    assert embedding is second.get_input_embeddings().weight                 # one matrix for both copies
    assert second.get_output_embeddings().weight is embedding                # still tied to the output projection
    layer = first.model.layers[0].self_attn.q_proj.weight
    assert layer is not second.model.layers[0].self_attn.q_proj.weight
    before = embedding.detach().clone()

    trained = get_peft_model(first, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    optimizer = torch.optim.SGD([p for p in trained.parameters() if p.requires_grad], lr=1.0)
    ids = torch.tensor([[2, 5, 6, 7, 8]])
    trained(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    assert torch.equal(embedding, before)

    assert install(trained) and install(second)
    first_head, second_head = trained.get_base_model().get_output_embeddings(), second.get_output_embeddings()
    assert first_head.weight is second_head.weight is embedding
    assert _half_copy(first_head.weight)[0] is _half_copy(second_head.weight)[0]      # one float16 copy for both
