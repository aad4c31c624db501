"""Text generators (extractive, local causal LM, OpenAI, Anthropic, OpenAI-compatible)."""
from ragft.llm.base import GENERATORS, Generation, GenerationRequest, Generator, create_generator

__all__ = ["GENERATORS", "Generation", "GenerationRequest", "Generator", "create_generator"]
