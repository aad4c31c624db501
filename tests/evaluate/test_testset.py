"""`ragft eval make DOCS --generator NAME`: eval sets from plain documents, against a local OpenAI-compatible
server whose replies are derived from the passage it is sent, so every filter meets real data."""
from __future__ import annotations

import json
import re

import pytest
from llm.conftest import Provider, serve
from support import run_cli

from ragft.evaluate.evalset import load_evalset
from ragft.evaluate.testset import (
    answerable_from_question,
    copies_chunk,
    corpus_chunks,
    manifest_path,
    parse_draft,
    sample_chunks,
)

# One topic per document; each is one chunk. The server's reply depends on the topic word the passage starts with.
DOCS = {
    "alpha.txt": "Alpha is the backup tool of the team. It copies the database to the archive server every night "
                 "at two o'clock. Restores are started with the alpha restore command and take about ten minutes "
                 "for the whole database.",
    "beta.txt": "Beta is the login service of the company. It checks passwords against the directory and issues "
                "tokens that last eight hours. Expired tokens are refused with a clear message to the user.",
    "gamma.txt": "Gamma is the monitoring dashboard. It shows the error rate of every service on one page and "
                 "turns a panel red when the rate passes one percent for five minutes in a row.",
    "delta.txt": "Delta is the deployment pipeline. It builds the container image, runs the test suite and "
                 "ships the image to the staging cluster when every test passes on the main branch.",
    "delta-copy.txt": "Delta is the deployment pipeline. It builds the container image, runs the test suite and "
                      "ships the image to the staging cluster when every test passes on any release branch.",
    "epsilon.txt": "Epsilon is the search index of the wiki. It is rebuilt every hour from the wiki pages and "
                   "answers queries in under a second for most pages that the team has written so far.",
    "zeta.txt": "Zeta is the chat bot of the help desk. It answers questions about holidays and expenses from "
                "the handbook and hands harder questions to a person on duty during office hours.",
}


def _passage(body: dict) -> str:
    user = body["messages"][-1]["content"]
    return re.search(r"\[1\] (?:[^:\n]*: )?(.*?)\n\nQuestion:", user, re.DOTALL).group(1)


def derived_reply(body: dict) -> str:
    """Question and answer built from the passage's own sentences; one kind of bad draft per topic."""
    text = _passage(body)
    sentences = re.split(r"(?<=\.) ", text)
    topic = text.split()[0]
    answer = sentences[1]
    question = f"What does {topic} do?"
    if topic == "Beta":
        answer = "Beta was written in 1887 by a French emperor who disliked passwords."     # not in the passage
    elif topic == "Gamma":
        question = f"Is it true that {sentences[1][:-1].lower()}?"                         # holds its own answer
    elif topic == "Epsilon":
        question = f"Why {' '.join(sentences[1].split()[:10]).lower()}?"                    # copies the wording
    elif topic == "Zeta":
        return "Sorry, I cannot help with that."                                          # no JSON, no Q/A lines
    return json.dumps({"question": question, "answer": answer})


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def server():
    with serve(Provider(respond=derived_reply), openai_key=None) as running:
        yield running


def _make(capsys, docs, server, out, *extra):
    return run_cli(capsys, "eval", "make", str(docs), "--generator", "openai-compatible", "--model", "gpt-4o-mini",
                   "--base-url", f"{server.url}/v1", "--n", "10", "--out", str(out), *extra)


def test_the_filters_drop_the_unsupported_the_self_answering_and_the_duplicate(docs, server, tmp_path, capsys):
    out = tmp_path / "set.jsonl"
    code, stdout, err = _make(capsys, docs, server, out, "--yes", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    counts = {f["name"]: (f["kept"], f["dropped"], f["flagged"]) for f in summary["filters"]}
    assert len(server.provider.received) == 7                       # one request per document's chunk
    assert counts["parsed"] == (6, 1, 0)                            # zeta: no question in the reply
    assert counts["supported"] == (5, 1, 0)                         # beta: the answer is not in the passage
    assert counts["not-answerable-from-question"] == (4, 1, 0)      # gamma: the question holds its answer
    assert counts["not-near-duplicate"] == (3, 1, 0)                # the second delta document
    assert counts["copies-chunk (flag)"] == (3, 0, 1)               # epsilon: kept, tagged
    items = load_evalset(out)
    assert summary["questions"] == len(items) == 3 and summary["thin"] is True
    by_doc = {item.relevant_ids[0]: item for item in items}
    assert set(by_doc) == {"alpha.txt", "epsilon.txt", next(d for d in by_doc if d.startswith("delta"))}
    assert "copies-chunk" in by_doc["epsilon.txt"].tags and "copies-chunk" not in by_doc["alpha.txt"].tags
    assert by_doc["alpha.txt"].reference_answer in DOCS["alpha.txt"]
    kinds = {t for item in items for t in item.tags if t.startswith("kind:")}
    assert kinds <= {"kind:fact", "kind:how-to", "kind:multi-sentence"} and len(kinds) >= 2
    manifest = json.loads(manifest_path(out).read_text())
    assert manifest["generator"] == "openai-compatible" and manifest["model"] == "gpt-4o-mini"
    assert len(manifest["chunks"]) == 6 and sum(bool(c["items"]) for c in manifest["chunks"]) == 3
    chunk_tags = {t.split(":", 1)[1] for item in items for t in item.tags if t.startswith("chunk:")}
    assert chunk_tags == {c["id"] for c in manifest["chunks"] if c["items"]}


def test_the_estimate_comes_first_and_nothing_is_sent_without_confirmation(docs, server, tmp_path, capsys):
    code, _, err = _make(capsys, docs, server, tmp_path / "set.jsonl")
    assert code == 1 and server.provider.received == [] and not (tmp_path / "set.jsonl").exists()
    estimate, refusal = err.strip().split("\n")[0], err.strip().split("\n")[-1]
    assert estimate.startswith("estimate: 7 generator calls") and "gpt-4o-mini" in err and "$" in estimate
    assert refusal == "error: no terminal to confirm the estimate on: nothing was sent; pass --yes to go ahead"
    code, _, err = _make(capsys, docs, server, tmp_path / "set.jsonl", "--model", "my-local-llama", "--yes")
    assert code == 0 and "cost unknown (not in the cost catalog; pass --price-model MODEL)" in err


def test_finetune_prepare_keeps_the_eval_chunks_out_of_training(docs, server, tmp_path, capsys):
    evalset = tmp_path / "set.jsonl"
    assert _make(capsys, docs, server, evalset, "--yes")[0] == 0
    asked = [DOCS["alpha.txt"], DOCS["epsilon.txt"]]
    train = tmp_path / "train.jsonl"
    unrelated = "An unrelated note about lunch menus and the coffee machine on floor two."
    rows = [{"question": f"Training question {i} about the {topic}?", "answer": f"Training answer {i}.",
             "context": text} for i, (topic, text) in enumerate(
                 [("backups", asked[0]), ("index", asked[1]), ("other", unrelated)] * 2)]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = run_cli(capsys, "finetune", "prepare", str(train), "--out", str(tmp_path / "prepared"),
                             "--eval-set", str(evalset), "--val-fraction", "0", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["excluded_eval_chunk_facts"] == 4 and result["facts"] == 2
    kept = [json.loads(line)["context"] for line in (tmp_path / "prepared" / "train.jsonl").read_text().splitlines()]
    assert kept and all("lunch menus" in c for c in kept)


def test_structure_gives_pairs_from_headings_and_definition_lists_without_a_generator(tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide.md").write_text(
        "# Guide\n\n## How to rotate the keys\n\nOpen the vault console, choose the key ring and press rotate; "
        "the old key keeps working for one day.\n\n## Glossary\n\nShard\n: one slice of the database that a "
        "single server holds and answers for.\n", encoding="utf-8")
    (folder / "terms.rst").write_text(
        "Terms\n=====\n\nReplica\n    A read-only copy of a shard that takes over when the primary server "
        "fails.\n", encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><body><h1>Page</h1><dl><dt>Tenant</dt><dd>A customer account with its own isolated storage and "
        "its own keys.</dd></dl></body></html>", encoding="utf-8")
    out = tmp_path / "set.jsonl"
    code, stdout, err = run_cli(capsys, "eval", "make", str(folder), "--generator", "none", "--n", "50",
                                "--out", str(out))
    assert code == 0, err
    pairs = {item.question: (item.reference_answer, item.relevant_ids[0]) for item in load_evalset(out)}
    assert pairs["How do I rotate the keys?"][0].startswith("Open the vault console")
    assert pairs["What is Shard?"] == ("one slice of the database that a single server holds and answers for.",
                                       "guide.md")
    assert pairs["What is Replica?"][1] == "terms.rst" and pairs["What is Tenant?"][1] == "page.html"
    assert "thin:" in stdout and "of the 50 questions asked for" in stdout
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text(DOCS["alpha.txt"])
    code, _, err = run_cli(capsys, "eval", "make", str(tmp_path / "plain"), "--generator", "none",
                           "--out", str(tmp_path / "p.jsonl"))
    assert code == 1 and "plain text has none" in err and err.count("\n") == 1


def test_chunks_are_sampled_across_documents_and_filters_read_words():
    from ragft.rag.document import Chunk

    words = " ".join(f"w{i}" for i in range(30))
    chunks = [Chunk(id=f"big{i}", doc_id="big.txt", text=words) for i in range(50)]
    chunks += [Chunk(id=f"small{i}", doc_id=f"small{i}.txt", text=words) for i in range(3)]
    chunks.append(Chunk(id="short", doc_id="short.txt", text="too short to ask about"))
    picked = sample_chunks(chunks, 6, seed=3)
    assert len(picked) == 6 and {c.doc_id for c in picked} >= {"small0.txt", "small1.txt", "small2.txt"}
    assert "short" not in {c.id for c in picked} and sample_chunks(chunks, 6, seed=3) == picked
    assert parse_draft('Sure! {"question": "What is X?", "answer": "X is Y."}') == ("What is X?", "X is Y.")
    assert parse_draft(" What is X?\nAnswer: X is Y [1].") == ("What is X?", "X is Y.")
    assert parse_draft("no idea") is None
    assert answerable_from_question("Is the Nile 6,650 km long?", "The Nile is 6,650 km long.")
    assert not answerable_from_question("How long is the Nile?", "The Nile is 6,650 km long.")
    assert copies_chunk("Why is it rebuilt every hour from the wiki pages and answers queries?", DOCS["epsilon.txt"])


def test_corpus_chunks_reuse_ingest_and_the_local_estimate_costs_no_money(docs):
    from ragft.evaluate.testset import LOCAL_OUTPUT_TOKENS, estimate_cost

    chunks = corpus_chunks(docs)
    assert {c.doc_id for c in chunks} == set(DOCS) and all(c.text.strip() for c in chunks)
    estimate = estimate_cost(chunks, "local", None)
    assert estimate.usd == 0 and estimate.output_tokens == len(chunks) * LOCAL_OUTPUT_TOKENS
    assert estimate.text().startswith(f"{len(chunks)} generator calls") and "no API cost" in estimate.text()
