"""How an example becomes causal-LM text, and the same prompt at inference for a trained adapter.

Format `ragft-qa-v1` (recorded in every adapter manifest): `[system\\n\\n]` + the user turn of
`ragft.llm.prompts.user_message` ("Question: ..." or "Passages:\\n[1] ...\\n\\nQuestion: ...") +
`\\nAnswer:`; the completion is ` <answer>` followed by the tokenizer's EOS. No one-shot example:
the adapter has learned the format, so inference must use `inference_prompt`, not the base-model prompt.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ragft.llm.base import GenerationRequest, Passage
from ragft.llm.prompts import TUNED_FORMAT, tuned_prompt

if TYPE_CHECKING:
    from ragft.finetune.dataset import Example

PROMPT_FORMAT = TUNED_FORMAT
inference_prompt = tuned_prompt          # the text a model fine-tuned by ragft expects


def request_for(example: "Example") -> GenerationRequest:
    passages = tuple(Passage(ref=i, chunk_id=f"p{i}", text=t) for i, t in enumerate(example.passages, 1))
    return GenerationRequest(question=example.prompt, passages=passages, system=example.system)


def training_pair(example: "Example") -> tuple[str, str]:
    """(prompt, completion) texts; the loss is computed on the completion only."""
    return inference_prompt(request_for(example)), " " + example.completion.strip()
