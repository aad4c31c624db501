"""Structure-aware chunking: sections by heading, paragraphs, sentences; token bounds, overlap, stable ids."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ragft.errors import InputError
from ragft.rag.chunking import chunk_document, chunk_documents, minilm_token_counter
from ragft.rag.document import Document
from ragft.rag.loaders import SourceFile, load

from pdf_samples import make_pdf

FAQ = Path(__file__).parents[1] / "data" / "ingest" / "programming-faq-excerpt.rst.txt"
count = minilm_token_counter()


def words(n: int, seed: str) -> str:
    """n distinct lowercase words (each one WordPiece token or more), as sentences of 8 words."""
    vocab = ["apple", "river", "stone", "cloud", "table", "green", "light", "music", "paper", "house"]
    items = [f"{vocab[(i * 7 + len(seed)) % 10]}" for i in range(n)]
    sentences = [" ".join(items[i:i + 8]).capitalize() + "." for i in range(0, n, 8)]
    return " ".join(sentences)


def faq_doc() -> Document:
    [doc] = load(SourceFile(FAQ, "faq/programming.rst.txt"))
    return doc


def assert_offsets_slice_text(doc, chunks):
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text


def assert_never_mid_word(doc, chunks):
    for chunk in chunks:
        assert chunk.start == 0 or doc.text[chunk.start - 1].isspace()
        assert chunk.end == len(doc.text) or doc.text[chunk.end].isspace()


NESTED_MD = (
    "Preamble line.\n\n# Guide\n\nGuide intro.\n\n## Install\n\nInstall text.\n\n### Linux\n\nUse apt.\n\n"
    "### Mac\n\nUse brew.\n\n## Usage\n\nUsage text.\n\n# Appendix\n\nMore.\n"
)


def test_heading_paths_follow_nesting_and_reset_at_siblings():
    doc = Document(id="guide.md", text=NESTED_MD, title="Guide", source="guide.md")
    chunks = chunk_document(doc)
    assert [(c.heading_path, c.text) for c in chunks] == [
        ((), "Preamble line."),
        (("Guide",), "Guide intro."),
        (("Guide", "Install"), "Install text."),
        (("Guide", "Install", "Linux"), "Use apt."),
        (("Guide", "Install", "Mac"), "Use brew."),
        (("Guide", "Usage"), "Usage text."),
        (("Appendix",), "More."),
    ]
    assert_offsets_slice_text(doc, chunks)
    assert chunks[3].metadata == {"source": "guide.md", "title": "Guide", "heading_path": ["Guide", "Install", "Linux"]}


def test_real_faq_chunks_follow_rst_sections_and_fit_the_token_budget():
    doc = faq_doc()
    chunks = chunk_document(doc, max_tokens=200, overlap=32)
    assert_offsets_slice_text(doc, chunks)
    assert_never_mid_word(doc, chunks)
    assert max(count(c.text) for c in chunks) <= 200
    debugger = [c for c in chunks if c.heading_path and c.heading_path[-1].startswith("Is there a source code level debugger")]
    assert debugger[0].heading_path == (
        "Programming FAQ", "General Questions",
        "Is there a source code level debugger with breakpoints, single-stepping, etc.?",
    )
    assert debugger[0].text.startswith("Yes.")
    assert chunks[0].heading_path == () and chunks[0].text == ":tocdepth: 2"
    assert not any(re.fullmatch(r"[=\-]+", line) for c in chunks for line in c.text.splitlines())


@pytest.mark.parametrize("max_tokens, overlap", [(16, 0), (40, 8), (120, 32), (400, 64)])
def test_every_chunk_fits_max_tokens_and_all_body_text_is_covered(max_tokens, overlap):
    doc = faq_doc()
    chunks = chunk_document(doc, max_tokens=max_tokens, overlap=overlap)
    assert all(count(c.text) <= max_tokens for c in chunks)
    covered = bytearray(len(doc.text))
    for c in chunks:
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    for h in doc.metadata["headings"]:
        covered[h["start"]:h["end"]] = b"\x01" * (h["end"] - h["start"])
    missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
    assert missing == []


def test_consecutive_chunks_of_a_section_share_at_most_overlap_tokens():
    doc = Document(id="long.md", text="# Long\n\n" + words(600, "a") + "\n\n# Next\n\n" + words(300, "b"))
    chunks = chunk_document(doc, max_tokens=60, overlap=10)
    shared = []
    for prev, nxt in zip(chunks, chunks[1:]):
        if prev.heading_path == nxt.heading_path:
            assert prev.start < nxt.start < prev.end < nxt.end
            shared.append(count(doc.text[nxt.start:prev.end]))
        else:
            assert nxt.start >= prev.end                     # no overlap across sections
    assert shared and max(shared) <= 10 and min(shared) >= 5
    assert_never_mid_word(doc, chunks)


def test_zero_overlap_gives_disjoint_chunks_and_whole_paragraphs_when_they_fit():
    paragraphs = [words(40, "p1"), words(30, "p2"), words(50, "p3")]
    doc = Document(id="p.txt", text="\n\n".join(paragraphs), metadata={"headings": []})
    chunks = chunk_document(doc, max_tokens=80, overlap=0)
    assert [c.text for c in chunks] == [paragraphs[0] + "\n\n" + paragraphs[1], paragraphs[2]]


def test_a_paragraph_longer_than_a_chunk_is_split_between_sentences():
    sentences = [words(8, f"s{i}") for i in range(12)]
    doc = Document(id="s.txt", text=" ".join(sentences), metadata={"headings": []})
    chunks = chunk_document(doc, max_tokens=30, overlap=0)
    assert len(chunks) > 1
    assert all(c.text.endswith(".") for c in chunks)
    assert " ".join(c.text for c in chunks) == doc.text


def test_a_word_longer_than_a_chunk_is_cut_into_chunks_of_its_own():
    url = "https://example.org/" + "/".join(f"part{i}" for i in range(200))
    doc = Document(id="u.txt", text=f"See {url} for details.", metadata={"headings": []})
    chunks = chunk_document(doc, max_tokens=50, overlap=10)
    assert all(count(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks if c.text not in ("See", "for details.")) == url
    assert_offsets_slice_text(doc, chunks)


def test_chunk_ids_are_stable_across_runs_and_change_only_where_text_changes():
    text = NESTED_MD.replace("Use apt.", words(300, "apt"))
    doc = Document(id="guide.md", text=text)
    first = chunk_document(doc, max_tokens=64)
    assert [c.id for c in first] == [c.id for c in chunk_document(doc, max_tokens=64)]
    assert len({c.id for c in first}) == len(first)
    edited = Document(id="guide.md", text=text.replace("Usage text.", "Usage text, revised."))
    second = chunk_document(edited, max_tokens=64)
    changed = {c.heading_path for c in first if c.id not in {d.id for d in second}}
    assert changed == {("Guide", "Usage")}
    other = Document(id="other.md", text=text)
    assert not {c.id for c in first} & {c.id for c in chunk_document(other, max_tokens=64)}


def test_pdf_chunks_carry_their_page_numbers(tmp_path):
    path = tmp_path / "manual.pdf"
    path.write_bytes(make_pdf([["Page one words."], ["Page two words."], ["Page three words."]], title="Manual"))
    [doc] = load(SourceFile(path, "manual.pdf"))
    single = chunk_document(doc, max_tokens=4, overlap=0)
    assert [(c.text, c.metadata["page"]) for c in single] == [
        ("Page one words.", 1), ("Page two words.", 2), ("Page three words.", 3),
    ]
    [whole] = chunk_document(doc, max_tokens=100, overlap=0)
    assert (whole.metadata["page"], whole.metadata["page_end"]) == (1, 3)
    assert "pages" not in whole.metadata and "headings" not in whole.metadata
    assert whole.metadata["title"] == "Manual" and whole.metadata["source"] == str(path)


def test_jsonl_record_fields_reach_chunk_metadata(tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_text('{"id": "r1", "text": "Refunds take five days.", "team": "billing"}\n')
    [chunk] = chunk_documents(load(SourceFile(path, "kb.jsonl")))
    assert chunk.doc_id == "kb.jsonl#r1"
    assert chunk.metadata["team"] == "billing" and chunk.metadata["line"] == 1


def test_a_custom_token_counter_bounds_the_chunks():
    def count_words(text: str) -> int:
        return len(text.split())

    doc = Document(id="w.txt", text=words(500, "w"), metadata={"headings": []})
    chunks = chunk_document(doc, max_tokens=25, overlap=5, count_tokens=count_words)
    assert all(count_words(c.text) <= 25 for c in chunks)
    assert max(count_words(c.text) for c in chunks) >= 20


def test_a_document_of_headings_only_still_gives_one_chunk():
    doc = Document(id="t.md", text="# Title only\n")
    assert [c.text for c in chunk_document(doc)] == ["# Title only"]


def test_blank_documents_give_no_chunks():
    assert chunk_document(Document(id="b.txt", text=" \n\n ")) == []


@pytest.mark.parametrize("max_tokens, overlap", [(10, 10), (0, 0), (5, -1), (8, 9), (10.5, 2)])
def test_chunk_sizes_are_validated(max_tokens, overlap):
    with pytest.raises(InputError, match="max_tokens must be greater than overlap"):
        chunk_document(Document(id="x", text="text"), max_tokens=max_tokens, overlap=overlap)


def test_sentences_ending_in_quotes_or_brackets_keep_them_and_the_bound_holds():
    sentence = 'The manual says "always back up first." (See chapter two.) Then run the tool! Done? '
    doc = Document(id="q.txt", text=(sentence * 40).strip(), metadata={"headings": []})
    chunks = chunk_document(doc, max_tokens=24, overlap=4)
    assert all(count(c.text) <= 24 for c in chunks)
    ends = {c.text[-1] for c in chunks}
    assert ends <= {'"', ")", "!", "?"}
