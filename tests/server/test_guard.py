"""What stands in front of the pages: size and rate limits, the access token, binding, and error pages."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ragft.errors import InputError
from ragft.server.app import create_app
from ragft.server.guard import TokenBucket, check_bind
from server.conftest import LOCAL


def test_a_body_over_64_kb_gets_a_413_page(client):
    response = client.post("/ask", data={"question": "x" * (65 * 1024)})
    assert response.status_code == 413 and "up to 64 KB" in response.text


def test_a_chunked_body_over_the_limit_is_cut_off_while_reading(client):
    def chunks():
        for _ in range(80):
            yield b"question=" + b"y" * 1024

    response = client.post("/ask", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_a_client_over_its_rate_gets_a_429_page_with_retry_after(index_path, runs_dir):
    with TestClient(create_app(index_path, runs_dir, rate_per_minute=1, burst=3), base_url=LOCAL) as client:
        codes = [client.get("/healthz").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/")
    assert response.headers["retry-after"] == "5" and "Too many requests" in response.text


def test_the_bucket_refills_with_time():
    bucket = TokenBucket(per_minute=60, burst=1)
    assert bucket.allow("a", now=0.0) and not bucket.allow("a", now=0.5)
    assert bucket.allow("a", now=1.6) and bucket.allow("b", now=1.6)


def test_with_a_token_pages_need_it_and_a_token_link_sets_a_cookie(index_path, runs_dir):
    with TestClient(create_app(index_path, runs_dir, token="s3cret"), base_url=LOCAL) as client:
        assert client.get("/healthz").status_code == 200
        denied = client.get("/runs")
        assert denied.status_code == 401 and "Access token needed" in denied.text
        assert client.get("/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        link = client.get("/runs?token=s3cret", follow_redirects=False)
        assert link.status_code == 303 and link.headers["location"] == "/runs"
        assert "httponly" in link.headers["set-cookie"].lower()
        assert client.get("/runs").status_code == 200     # the cookie now carries it


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_binds_need_no_token(host):
    check_bind(host, None)


def test_binding_beyond_loopback_without_a_token_is_refused_but_allowed_with_one():
    with pytest.raises(InputError, match="--host 0.0.0.0 is reachable from other machines"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "s3cret")


def test_an_unexpected_error_is_a_clear_500_page_without_a_traceback(index_path, runs_dir):
    app = create_app(index_path, runs_dir)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals at /srv/app.py line 12")

    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "Traceback" not in response.text and "secret internals" not in response.text


def test_unknown_pages_and_runs_are_404_pages(client):
    for url in ("/nowhere", "/runs/missing", "/runs/..%2F..%2Fetc"):
        response = client.get(url)
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert client.put("/").status_code == 405


def test_pages_forbid_outside_scripts_and_framing(client):
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_without_a_token_only_loopback_host_names_are_served(index_path, runs_dir):
    with TestClient(create_app(index_path, runs_dir), base_url="http://attacker.example:8321") as client:
        response = client.get("/runs")
    assert response.status_code == 400 and "answers only to localhost" in response.text
    with TestClient(create_app(index_path, runs_dir), base_url="http://localhost:8321") as client:
        assert client.get("/runs").status_code == 200
