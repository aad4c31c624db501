"""The local generator: a small causal LM (Gemma 3 270M by default, optionally with a LoRA adapter) on CPU.

The base model gets the one-shot "Question:/Answer:" prompt and stops at BASE_MODEL_STOPS; an adapter
trained by ragft gets the format its manifest records (PROMPT_FORMATS / PROMPT_STOPS); greedy unless temperature > 0; tokens stream from a generation thread.

On CPU a generation runs on the cores other processes leave free (`threads="auto"`, the default: ragft.cores.free_cores,
sampled once per generator, at its first generation): 2 torch threads on an idle 2-core machine, 1 while another task
keeps a core busy. On idle cores the second thread makes the prompt 2x and the decoding 1.6x faster; with the second
core busy, every decoding op waits for a descheduled thread and two threads took 5-8x the wall time of one
(docs/benchmarks.md, "Local generation"). `decode_threads` can give the tokens after the first a count of their own.
The counts are set for the generation thread only (per OS thread, ragft.cores.torch_threads), so concurrent
generations in a server do not disturb each other. transformers' generate already computes the 262k-word output
projection for the last position only during prefill (logits_to_keep=1); for greedy answers on CPU that projection
is screened in float16 with a float32 recheck (ragft.llm.screened_head: the float32 projection's tokens but for
ties within float32 rounding, from a 4-5x cheaper product).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

from ragft.cores import free_cores, torch_threads
from ragft.errors import InputError
from ragft.llm.base import Generation, GenerationRequest
from ragft.llm.local_model import adapter_prompt_format, load_causal_lm, require_local_dependencies
from ragft.llm.prompts import PROMPT_FORMATS, PROMPT_STOPS
from ragft.llm.streaming import Event, StopScanner, Usage, collect, text_pieces

# torch intra-op threads on CPU for the prompt and for the tokens after it; measured in benchmarks/bench_local_generation.py
GENERATION_THREADS = "auto"
DECODE_THREADS = None    # as the prompt's


class LocalGenerator:
    name = "local"

    def __init__(
        self,
        base: str = "gemma3-270m",
        adapter: Path | None = None,
        device: str = "cpu",
        model: Any = None,
        tokenizer: Any = None,
        prompt: Callable[[GenerationRequest], str] | None = None,
        threads: int | Literal["auto"] | None = GENERATION_THREADS,
        decode_threads: int | Literal["auto"] | None = DECODE_THREADS,
        screened_head: bool = True,
    ):
        """Loads lazily on first use; pass an already loaded `model` and `tokenizer` to share one.

        `prompt` renders a request as model input; by default the format the adapter's manifest records
        (ragft-trained adapters: `tuned_prompt`), else the base-model one-shot `completion_prompt`.
        `threads`: torch's intra-op threads for the prompt (prefill) on CPU: a number, "auto" (the cores other
        processes leave free, sampled once, at the first generation) or None (torch's setting as it is);
        `decode_threads`: the same for the tokens after the first one (None: as for the prompt). Restored after.
        `screened_head`: greedy answers on CPU pick each token through `ragft.llm.screened_head` (the float32
        projection's tokens, up to ties within float32 rounding, from a float16 copy of it: +50 % of the
        projection's memory); False keeps the float32 projection for every token.
        """
        prompt_format = adapter_prompt_format(adapter) if adapter else "completion-v1"
        self.prompt = prompt or PROMPT_FORMATS[prompt_format]
        self.stops = PROMPT_STOPS[prompt_format]
        require_local_dependencies("the local generator")
        self.base, self.adapter, self.device = base, adapter, device
        self.threads_option = _thread_option("threads", threads)
        self.decode_threads_option = _thread_option("decode_threads", decode_threads)
        self._free: int | None = None
        self.screened_head = screened_head
        self._screened: bool | None = None      # whether the head is in place, decided at the first load
        self._model, self._tokenizer = model, tokenizer
        self._lock = threading.Lock()
        self.model_name = f"{base}+{Path(adapter).name}" if adapter else base

    @property
    def threads(self) -> int | None:
        """torch threads for a prompt on CPU; "auto": the free cores, sampled once, at first use."""
        return self._resolve(self.threads_option)

    @property
    def decode_threads(self) -> int | None:
        """torch threads for the tokens after the first on CPU (None: the prompt's)."""
        return self._resolve(self.decode_threads_option) or self.threads

    def _resolve(self, option: int | str | None) -> int | None:
        if option != "auto":
            return option
        if self._free is None:
            self._free = free_cores()
        return self._free

    def load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                self._model, self._tokenizer = load_causal_lm(self.base, self.adapter, self.device)
            if self._screened is None:
                from ragft.llm.screened_head import install

                self._screened = self.screened_head and install(self._model)
        return self._model, self._tokenizer

    def generate(self, request: GenerationRequest) -> Generation:
        return collect(self._events(request), request, self.prompt(request), self.model_name)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return text_pieces(self._events(request))

    def _events(self, request: GenerationRequest) -> Iterator[Event]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        from ragft.llm.screened_head import changes_logits, greedy_decoding

        model, tokenizer = self.load()
        inputs = tokenizer(self.prompt(request), return_tensors="pt").to(model.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        halt = threading.Event()

        on_cpu = model.device.type == "cpu"
        prefill, decode = (self.threads, self.decode_threads) if on_cpu else (None, None)

        class _Halt(StoppingCriteria):
            """Called in the generation thread after every step: the first call comes after the prompt's forward
            pass, so from there on the tokens are decoded on `decode` threads."""

            def __call__(self, input_ids, scores, **kwargs):
                if decode and torch.get_num_threads() != decode:
                    torch.set_num_threads(decode)
                return halt.is_set()

        greedy = request.temperature <= 0
        sampling = {"do_sample": False} if greedy else {"do_sample": True, "temperature": request.temperature}
        plain_argmax = greedy and self._screened and not changes_logits(getattr(model, "generation_config", None))
        screened = greedy_decoding if plain_argmax else nullcontext
        failure: list[BaseException] = []
        generated: list[int] = []

        def run() -> None:
            try:
                torch.manual_seed(request.seed)
                with torch.inference_mode(), torch_threads(torch, prefill), screened():
                    sequences = model.generate(
                        **inputs,
                        max_new_tokens=request.max_tokens,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Halt()]),
                        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                        top_p=None,
                        top_k=None,
                        **sampling,
                    )
                generated.append(int(sequences.shape[1] - inputs["input_ids"].shape[1]))
            except BaseException as error:  # surfaced in the consumer thread below
                failure.append(error)
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        scanner = StopScanner(self.stops + tuple(request.stop))
        pieces: list[str] = []
        exhausted = False
        try:
            for piece in streamer:
                out = scanner.feed(piece)
                if out:
                    pieces.append(out)
                    yield out
                if scanner.stopped:
                    break
            else:
                exhausted = True
            tail = scanner.finish()
            if tail:
                pieces.append(tail)
                yield tail
        finally:
            halt.set()
            if not exhausted:
                for _ in streamer:   # let the generation thread finish its last step and end the stream
                    pass
            thread.join()
        if failure:
            raise failure[0]
        # Tokens the model produced, including any it made before the stop sequence was seen.
        yield Usage(int(inputs["input_ids"].shape[1]), generated[0] if generated else None, self.model_name)


def _thread_option(name: str, value: int | str | None) -> int | str | None:
    if value in (None, "auto"):
        return value
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        raise InputError(f"local generator option {name}={value}: use a whole number of at least 1 or 'auto'")
    return int(value)


def create_local(**options) -> LocalGenerator:
    return LocalGenerator(**options)
