"""The local generator: a small causal LM (Gemma 3 270M by default, optionally with a LoRA adapter) on CPU.

The base model gets the one-shot "Question:/Answer:" prompt and stops at BASE_MODEL_STOPS; an adapter
trained by ragft gets the format its manifest records (PROMPT_FORMATS / PROMPT_STOPS); greedy unless temperature > 0; tokens stream from a generation thread.

On CPU a generation runs with ONE torch thread (`threads`, default GENERATION_THREADS): decoding is a chain of
small memory-bound matrix-vector products, and two OpenMP threads spent ~5x the CPU seconds and ~5x the wall time
of one on the 2-core bench machine, prefill included (docs/benchmarks.md, "Local generation"). The output is the
same token for token. transformers' generate already computes the 262k-word output projection for the last
position only during prefill (logits_to_keep=1).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ragft.errors import InputError
from ragft.llm.base import Generation, GenerationRequest
from ragft.llm.local_model import adapter_prompt_format, load_causal_lm, require_local_dependencies
from ragft.llm.prompts import PROMPT_FORMATS, PROMPT_STOPS
from ragft.llm.streaming import Event, StopScanner, Usage, collect, text_pieces

GENERATION_THREADS = 1   # torch intra-op threads per generation on CPU; measured in benchmarks/bench_local_generation.py


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
        threads: int | None = GENERATION_THREADS,
    ):
        """Loads lazily on first use; pass an already loaded `model` and `tokenizer` to share one.

        `prompt` renders a request as model input; by default the format the adapter's manifest records
        (ragft-trained adapters: `tuned_prompt`), else the base-model one-shot `completion_prompt`.
        `threads`: torch's intra-op threads while generating on CPU (then restored); None leaves torch's setting.
        """
        prompt_format = adapter_prompt_format(adapter) if adapter else "completion-v1"
        self.prompt = prompt or PROMPT_FORMATS[prompt_format]
        self.stops = PROMPT_STOPS[prompt_format]
        require_local_dependencies("the local generator")
        self.base, self.adapter, self.device = base, adapter, device
        if threads is not None and int(threads) < 1:
            raise InputError(f"local generator option threads={threads}: use a whole number of at least 1")
        self.threads = int(threads) if threads is not None else None
        self._model, self._tokenizer = model, tokenizer
        self._lock = threading.Lock()
        self.model_name = f"{base}+{Path(adapter).name}" if adapter else base

    def load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                self._model, self._tokenizer = load_causal_lm(self.base, self.adapter, self.device)
        return self._model, self._tokenizer

    def generate(self, request: GenerationRequest) -> Generation:
        return collect(self._events(request), request, self.prompt(request), self.model_name)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return text_pieces(self._events(request))

    def _events(self, request: GenerationRequest) -> Iterator[Event]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        model, tokenizer = self.load()
        inputs = tokenizer(self.prompt(request), return_tensors="pt").to(model.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        halt = threading.Event()

        class _Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return halt.is_set()

        sampling = {"do_sample": True, "temperature": request.temperature} if request.temperature > 0 else {"do_sample": False}
        failure: list[BaseException] = []
        generated: list[int] = []

        def run() -> None:
            try:
                torch.manual_seed(request.seed)
                threads = self.threads if model.device.type == "cpu" else None
                with torch.inference_mode(), _torch_threads(torch, threads):
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


@contextmanager
def _torch_threads(torch, threads: int | None):
    """torch's intra-op thread count set to `threads` for the block, then restored (None: unchanged)."""
    previous = torch.get_num_threads()
    if threads and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def create_local(**options) -> LocalGenerator:
    return LocalGenerator(**options)
