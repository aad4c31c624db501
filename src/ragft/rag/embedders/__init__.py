"""Embedders: one file per family, all behind the `Embedder` protocol in base.py."""
from ragft.rag.embedders.base import EMBEDDERS, Embedder, create_embedder

__all__ = ["EMBEDDERS", "Embedder", "create_embedder"]
