"""The web app's pages: the advisor form and its verdict, asking the index, the runs and their reports."""
from __future__ import annotations

import json

from markupsafe import escape

from ragft.advise import advise
from ragft.advise.examples import load_example
from report.sample_run import IMG, SCRIPT
from server.conftest import LOCAL


def test_advisor_form_shows_every_profile_answer_and_prefills_an_example(client):
    page = client.get("/?example=customer-support").text
    for field in ("knowledge_valid_months", "latency_p95_s", "knowledge", "hallucination_tolerance", "two_systems_ok"):
        assert f'name="{field}"' in page
    assert 'name="knowledge_valid_months" value="0.5"' in page
    assert '<option value="both" selected>' in page


def test_submitted_advisor_form_shows_the_same_traced_verdict_as_the_library(client):
    form = {"knowledge_valid_months": "12", "latency_p95_s": "4", "knowledge": "documents", "streaming_ok": "true",
            "hallucination_tolerance": "zero-tolerance", "validation_available": "true", "labeled_examples": ""}
    page = client.post("/", data=form).text
    expected = advise(load_example("customer-support").model_copy(update={
        "name": None, "description": None, "knowledge_valid_months": 12.0, "latency_p95_s": 4.0,
        "knowledge": "documents", "streaming_ok": True, "hallucination_tolerance": "zero-tolerance",
        "validation_available": True, "cost_ceiling_usd": None, "monthly_queries": None,
        "expert_review_available": None, "labeled_examples": None, "domain_terminology": None,
        "style_consistency": None, "two_systems_ok": None}))
    assert f'<div class="label">{escape(expected.label)}</div>' in page
    for step in expected.trace:
        assert f"<td>{step.question}</td>" in page and str(escape(step.consequence)) in page


def test_an_invalid_answer_is_shown_inline_with_the_field_and_the_form_keeps_the_values(client):
    response = client.post("/", data={"latency_p95_s": "fast", "knowledge": "documents"})
    assert response.status_code == 422
    assert "latency_p95_s = &#39;fast&#39; is invalid: expected a number &gt; 0 (seconds)" in response.text
    assert 'name="latency_p95_s" value="fast"' in response.text


def test_asking_answers_from_the_index_with_citations(client):
    page = client.post("/ask", data={"question": "How do I create a virtual environment?"}).text
    assert "python -m venv DIR" in page and "[1]" in page
    assert "<b>Virtual environments</b>" in page


def test_the_stream_sends_pieces_then_the_citations(client):
    response = client.post("/ask/stream", data={"question": "How do I create a virtual environment?"})
    events = [json.loads(line) for line in response.text.splitlines()]
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert [e["type"] for e in events][-1] == "done" and events[0]["type"] == "token"
    text = "".join(e["text"] for e in events if e["type"] == "token")
    assert "python -m venv" in text
    assert events[-1]["citations"][0]["doc_id"] == "venv.md"


def test_an_empty_question_is_a_clear_400_page(client):
    response = client.post("/ask", data={"question": "   "})
    assert response.status_code == 400 and "type a question first" in response.text


def test_asking_without_an_index_says_how_to_build_one(runs_dir, tmp_path):
    from fastapi.testclient import TestClient

    from ragft.server.app import create_app

    with TestClient(create_app(tmp_path / "none", runs_dir), base_url=LOCAL) as client:
        assert 'id="no-index"' in client.get("/ask").text
        response = client.post("/ask", data={"question": "anything"})
    assert response.status_code == 404 and "ragft index DIR" in response.text


def test_runs_are_listed_and_open_to_their_report(client):
    listing = client.get("/runs").text
    assert '<a href="/runs/sample-run">sample-run</a>' in listing
    report = client.get("/runs/sample-run").text
    assert "Measured on your data" in report and '<nav class="top">' in report
    markdown = client.get("/runs/sample-run/report.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# RAG, fine-tuning, or both?")


def test_planted_markup_in_documents_questions_and_answers_is_escaped_on_every_page(client):
    pages = [
        client.post("/ask", data={"question": f"Hostile markup {SCRIPT} documents {IMG} shown text"}).text,
        client.get("/runs/sample-run").text,
        client.post("/", data={"name": SCRIPT, "knowledge": IMG}).text,
    ]
    for page in pages:
        assert SCRIPT not in page and "<img" not in page
        assert str(escape(SCRIPT)) in page
    assert "Markup in documents" in pages[0]      # the hostile document was retrieved and cited, as text


def test_streamed_events_carry_hostile_text_as_json_strings_only(client):
    response = client.post("/ask/stream", data={"question": "Markup in documents must be shown as text"})
    done = json.loads(response.text.splitlines()[-1])
    assert any(SCRIPT in c["text"] for c in done["citations"])    # data, rendered by textContent in the page


def test_healthz_reports_the_index_and_the_runs(client):
    assert client.get("/healthz").json() == {"status": "ok", "index": True, "runs": 1}


def test_the_stream_can_validate_the_answer_against_the_retrieved_chunks(client):
    response = client.post("/ask/stream", data={"question": "How do I create a virtual environment?",
                                                "validate": "refuse"})
    events = [json.loads(line) for line in response.text.splitlines()]
    assert [e["type"] for e in events] == ["token", "done"]        # checked whole, sent as one piece
    validation = events[-1]["validation"]
    assert validation["refused"] is False and validation["unsupported_count"] == 0 and validation["sentences"]
    assert "python -m venv" in events[0]["text"]


def test_an_unknown_validate_mode_is_a_400(client):
    response = client.post("/ask", data={"question": "How do I create a virtual environment?", "validate": "maybe"})
    assert response.status_code == 400 and "validate: &#39;maybe&#39; is not one of off, flag, refuse" in response.text
