"""Vector stores: one file per backend, all behind the `Store` protocol in base.py."""
from ragft.rag.stores.base import STORES, Store, open_store

__all__ = ["STORES", "Store", "open_store"]
