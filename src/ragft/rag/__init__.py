"""The RAG engine: ingest, embed, store, search, answer with citations."""
