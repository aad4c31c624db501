"""Loading files into Documents: formats, titles, headings, hashes, and one-line errors that name the file."""
from __future__ import annotations

import hashlib
import io
import json

import pytest

from ragft.errors import InputError
from ragft.rag.loaders import SUPPORTED_SUFFIXES, SourceFile, load

from pdf_samples import make_pdf


def source(tmp_path, name: str, content: bytes | str) -> SourceFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return SourceFile(path, name)


def load_one(tmp_path, name, content):
    [doc] = load(source(tmp_path, name, content))
    return doc


def titles(doc):
    return [(h["level"], h["title"]) for h in doc.metadata["headings"]]


def test_supported_suffixes_cover_every_documented_format():
    assert set(SUPPORTED_SUFFIXES) == {".md", ".markdown", ".rst", ".txt", ".html", ".htm", ".pdf", ".jsonl"}


def test_markdown_keeps_atx_and_setext_headings_but_not_hashes_inside_code_fences(tmp_path):
    text = "# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n```sh\n# not a heading\n```\n\nUsage\n-----\n\nCall it.\n"
    doc = load_one(tmp_path, "guide.md", text)
    assert titles(doc) == [(1, "Guide"), (2, "Install"), (2, "Usage")]
    assert doc.title == "Guide"
    assert doc.text == text
    for h in doc.metadata["headings"]:
        assert h["title"] in doc.text[h["start"]:h["end"]]
    assert doc.metadata["format"] == "markdown"


def test_markdown_front_matter_gives_the_title_and_leaves_the_text(tmp_path):
    doc = load_one(tmp_path, "post.markdown", "---\ntitle: Release notes\ndate: 2024-01-01\n---\n# v2\n\nFaster.\n")
    assert doc.title == "Release notes"
    assert doc.text == "# v2\n\nFaster.\n"


def test_content_hash_is_sha256_of_the_raw_bytes(tmp_path):
    raw = "\ufeffTitle line\r\nsecond line\r\n".encode("utf-8")
    doc = load_one(tmp_path, "notes.txt", raw)
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()
    assert doc.text == "Title line\nsecond line\n"       # BOM dropped, newlines normalised
    assert doc.title == "notes"                          # plain text: title from the file stem
    assert doc.metadata["headings"] == []


def test_rst_underline_and_overline_headings_get_levels_in_order_of_first_use(tmp_path):
    text = (
        "=======\nManual\n=======\n\nIntro text.\n\nSetup\n=====\n\nDo this.\n\nDetails\n-------\n\n"
        "More.\n\nUsage\n=====\n\nA table follows.\n\n=====  =====\nA      B\n=====  =====\n"
    )
    doc = load_one(tmp_path, "manual.rst", text)
    assert titles(doc) == [(1, "Manual"), (2, "Setup"), (3, "Details"), (2, "Usage")]
    assert doc.title == "Manual"


def test_sphinx_sources_rst_txt_is_read_as_rst(tmp_path):
    doc = load_one(tmp_path, "_sources/faq.rst.txt", "FAQ\n===\n\nWhy?\n----\n\nBecause.\n")
    assert doc.metadata["format"] == "rst"
    assert titles(doc) == [(1, "FAQ"), (2, "Why?")]


def test_html_drops_script_style_nav_and_keeps_headings_and_title(tmp_path):
    html = (
        "<html><head><title>Shop &amp; FAQ</title><style>p{color:red}</style></head><body>"
        "<nav><a href='/'>Home</a> menu items</nav><script>var secret = 1;</script>"
        "<h1>Returns</h1><p>Items can be   returned\n within <b>30 days</b>.</p>"
        "<div><h2>Refunds</h2><ul><li>Card</li><li>Cash</li></ul></div>"
        "<pre>line 1\n  line 2</pre><footer>Copyright</footer></body></html>"
    )
    doc = load_one(tmp_path, "faq.html", html)
    assert doc.title == "Shop & FAQ"
    assert doc.text == "Returns\n\nItems can be returned within 30 days.\n\nRefunds\n\nCard\n\nCash\n\nline 1\n  line 2"
    assert titles(doc) == [(1, "Returns"), (2, "Refunds")]
    for h in doc.metadata["headings"]:
        assert doc.text[h["start"]:h["end"]] == h["title"]


def test_html_drops_chrome_marked_by_role_or_generator_class(tmp_path):
    html = (
        "<body><div class='related' role='navigation'><div><a>previous</a></div> next</div>"
        "<input type='search' role='search' name='q'>"
        "<div class='toc'><dl><dt>1. Intro</dt></dl></div>"
        "<h1>Intro<a class='headerlink' href='#intro'>\u00b6</a></h1><p>Body text.</p>"
        "<div class='sphinxsidebar'><h3>Quick search</h3></div></body>"
    )
    doc = load_one(tmp_path, "page.html", html)
    assert doc.text == "Intro\n\nBody text."
    assert titles(doc) == [(1, "Intro")]


def test_html_nested_5000_divs_deep_loads_without_recursion(tmp_path):
    html = "<html><body>" + "<div>" * 5000 + "<h3>Deep</h3><p>bottom text</p>" + "</div>" * 5000 + "</body></html>"
    doc = load_one(tmp_path, "deep.htm", html)
    assert doc.text == "Deep\n\nbottom text"
    assert doc.title == "Deep"


def test_html_with_only_scripts_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(InputError, match=r"empty\.html: HTML page has no visible text"):
        load(source(tmp_path, "empty.html", "<html><script>x()</script></html>"))


def test_pdf_text_per_page_with_page_starts_and_metadata_title(tmp_path):
    pdf = make_pdf([["Chapter one text."], [], ["Chapter three text."]], title="Handbook")
    doc = load_one(tmp_path, "handbook.pdf", pdf)
    assert doc.title == "Handbook"
    assert doc.text == "Chapter one text.\n\nChapter three text."
    assert doc.metadata["pages"] == [[0, 1], [19, 3]]
    assert doc.content_hash == hashlib.sha256(pdf).hexdigest()


def test_pdf_without_title_metadata_is_titled_by_its_file_stem(tmp_path):
    assert load_one(tmp_path, "scan-2024.pdf", make_pdf([["Hello"]])).title == "scan-2024"


def test_truncated_pdf_is_an_error_naming_the_file(tmp_path):
    pdf = make_pdf([["Some text here."]])
    with pytest.raises(InputError, match=r"cut\.pdf: PDF is truncated"):
        load(source(tmp_path, "cut.pdf", pdf[: len(pdf) // 2]))


def test_pdf_with_corrupt_body_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(InputError, match=r"bad\.pdf: cannot read PDF"):
        load(source(tmp_path, "bad.pdf", b"%PDF-1.4\n" + b"garbage " * 50 + b"\n%%EOF\n"))


def test_encrypted_pdf_is_an_error_asking_to_decrypt(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret plans."]]))))
    writer.encrypt("hunter2", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InputError, match=r"locked\.pdf: PDF is encrypted"):
        load(source(tmp_path, "locked.pdf", out.getvalue()))


def test_file_that_is_not_a_pdf_despite_its_suffix_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"fake\.pdf: not a PDF"):
        load(source(tmp_path, "fake.pdf", "just text"))


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"image\.txt: looks binary"),
        ("latin1.md", "caf\u00e9 cr\u00e8me".encode("latin-1"), r"latin1\.md: invalid UTF-8 at byte 3"),
        ("empty.txt", b"", r"empty\.txt: file is empty"),
        ("blank.rst", b"  \n\n\t\n", r"blank\.rst: file is empty"),
        ("wide.txt", "hi".encode("utf-16"), r"wide\.txt: text is UTF-16"),
    ],
)
def test_unloadable_text_files_raise_one_line_errors_naming_the_file(tmp_path, name, content, message):
    with pytest.raises(InputError, match=message) as raised:
        load(source(tmp_path, name, content))
    assert "\n" not in str(raised.value)


def test_unreadable_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"gone\.md: cannot read"):
        load(SourceFile(tmp_path / "gone.md", "gone.md"))


def test_jsonl_records_become_documents_with_ids_titles_and_metadata(tmp_path):
    lines = [
        {"id": "q1", "text": "Refunds take 5 days.", "title": "Refunds", "team": "billing"},
        {"content": "# Shipping\n\nWe ship worldwide."},
        {"id": 7, "text": "Plain record."},
    ]
    raw = "\n".join(json.dumps(r) for r in lines[:2]) + "\n\n" + json.dumps(lines[2]) + "\n"
    docs = load(source(tmp_path, "kb/records.jsonl", raw))
    assert [d.id for d in docs] == ["kb/records.jsonl#q1", "kb/records.jsonl#2", "kb/records.jsonl#7"]
    assert [d.title for d in docs] == ["Refunds", "Shipping", "records.jsonl#7"]
    assert docs[0].metadata["team"] == "billing" and docs[0].metadata["line"] == 1
    assert docs[2].metadata["line"] == 4
    assert docs[1].content_hash == hashlib.sha256(json.dumps(lines[1]).encode()).hexdigest()
    assert titles(docs[1]) == [(1, "Shipping")]


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"text": "ok"}\n{"text": "broken"\n', r"bad\.jsonl:2: not valid JSON"),
        ('{"text": "ok"}\n["a list"]\n', r"bad\.jsonl:2: expected a JSON object"),
        ('{"title": "no text"}\n', r"bad\.jsonl:1: record needs a non-empty 'text'"),
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', r"bad\.jsonl:2: duplicate id 'a' \(first on line 1\)"),
        ('{"text": "x", "headings": []}\n', r"bad\.jsonl:1: field 'headings' is reserved"),
        ("\n\n", r"bad\.jsonl: file is empty"),
    ],
)
def test_malformed_jsonl_names_the_file_and_line(tmp_path, body, message):
    with pytest.raises(InputError, match=message):
        load(source(tmp_path, "bad.jsonl", body))


def test_markdown_list_items_quotes_and_tables_over_dashes_are_not_headings(tmp_path):
    text = "Intro\n\n- item\n---\n\n> quote\n---\n\n| a | b |\n---\n\nReal\n----\n\nBody.\n"
    assert titles(load_one(tmp_path, "lists.md", text)) == [(2, "Real")]


def test_html_fragment_without_head_still_gives_its_title(tmp_path):
    doc = load_one(tmp_path, "frag.html", "<title>Fragment</title><p>Only a paragraph.</p>")
    assert (doc.title, doc.text) == ("Fragment", "Only a paragraph.")


def test_pdf_with_a_wrong_xref_offset_is_repaired_quietly(tmp_path, caplog):
    pdf = make_pdf([["Recovered text."]])
    xref = pdf.rindex(b"startxref\n") + len(b"startxref\n")
    broken = pdf[:xref] + str(int(pdf[xref:].split(b"\n")[0]) + 7).encode() + b"\n%%EOF\n"
    with caplog.at_level("WARNING"):
        doc = load_one(tmp_path, "shifted.pdf", broken)
    assert doc.text == "Recovered text."
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
