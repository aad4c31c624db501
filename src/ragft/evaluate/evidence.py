"""The evidence every system's answer is checked against: the question's reference answer plus the text of
its gold documents (`EvalItem.relevant_ids`), read from the corpus folders of the run.

The same evidence for every system keeps the hallucination row fair: closed-book and fine-tuned answers are
not checked against less than a retrieving system's (a short reference alone flags true statements the gold
document makes), and a retrieving system is not checked against its own passages, which an extractive
answerer quotes by construction (that is a separate row, "grounded in its own retrieved passages").

A gold id is a document id: the path relative to its corpus folder (as `Index.sync(root=folder)` names it),
`file.jsonl#3` for a JSONL record, or `page.html#anchor`, which resolves to the whole page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ragft.errors import RagftError


@dataclass
class GoldDocuments:
    """Gold document texts by id, loaded on first use from `folders` (none: reference-only checking)."""

    folders: Sequence[Path] = ()
    _texts: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)   # file id -> [(doc id, text)]

    @property
    def available(self) -> bool:
        return bool(self.folders)

    def texts(self, relevant_ids: Sequence[str]) -> dict[str, str]:
        """gold id -> its document's text, for the ids found in the corpus folders (missing ones left out)."""
        out: dict[str, str] = {}
        for rid in dict.fromkeys(relevant_ids):
            docs = self._file(rid.split("#", 1)[0])
            exact = [text for doc_id, text in docs if doc_id == rid]
            # "file.jsonl" as gold: every record of it; "page.html#anchor": the whole page
            chosen = exact or [text for doc_id, text in docs if doc_id == rid.split("#", 1)[0]
                               or doc_id.startswith(rid + "#")]
            if chosen:
                out[rid] = "\n\n".join(chosen)
        return out

    def _file(self, file_id: str) -> list[tuple[str, str]]:
        if file_id not in self._texts:
            self._texts[file_id] = _load(self.folders, file_id)
        return self._texts[file_id]


def _load(folders: Sequence[Path], file_id: str) -> list[tuple[str, str]]:
    from ragft.rag.discovery import SourceFile, format_of
    from ragft.rag.loaders import load

    for folder in folders:
        path = Path(folder) / file_id
        if path.is_file() and format_of(path) is not None and ".." not in Path(file_id).parts:
            try:
                return [(doc.id, doc.text) for doc in load(SourceFile(path, file_id))]
            except RagftError:
                return []         # an unreadable gold file: the reference alone is the evidence
    return []
