"""`ragft serve`: the advisor as a form, ask-your-docs with streamed cited answers, the eval runs and their
reports. Server-rendered pages (Jinja2, autoescaped), one small script for streaming, no external fetches."""
from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response,
                               StreamingResponse)
from starlette.exceptions import HTTPException

from ragft.errors import InputError, NotFoundError, RagftError
from ragft.secrets import RedactingFilter
from ragft.server.asker import Asker
from ragft.server.guard import BURST, RATE_PER_MINUTE, TOKEN_COOKIE, TokenBucket, bearer, is_loopback, token_matches

log = logging.getLogger("ragft.server")
log.addFilter(RedactingFilter())            # tracebacks of failed asks may quote a provider's key

MAX_BODY_BYTES = 64 * 1024
MAX_QUESTION_CHARS = 2000
_STATIC = Path(__file__).parent / "static"
_NAV = (("/", "Advisor"), ("/ask", "Ask your docs"), ("/runs", "Eval runs"))
_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; "
                                "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_OPEN_PATHS = ("/healthz",)


class TooLarge(Exception):
    pass


def create_app(index_path: str | Path, runs_dir: str | Path, token: str | None = None, *,
               max_body_bytes: int = MAX_BODY_BYTES, rate_per_minute: float = RATE_PER_MINUTE, burst: int = BURST,
               generator: str = "extractive", generator_options: dict[str, Any] | None = None,
               workers: int | None = None) -> FastAPI:
    """The web app; `token`, when set, is required (Bearer header, or `?token=` once, which sets a cookie).
    Without a token only loopback Host names are served, so a web page cannot reach it by DNS rebinding.
    `workers`: threads answering questions (default: the cores the process may use)."""
    asker = Asker(index_path, generator, generator_options=generator_options, workers=workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        asker.close()

    app = FastAPI(title="ragft", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.asker, app.state.runs_dir, app.state.max_body = asker, Path(runs_dir), max_body_bytes
    _guard(app, token, TokenBucket(rate_per_minute, burst), max_body_bytes)
    _error_pages(app)
    _advisor_routes(app)
    _ask_routes(app)
    _run_routes(app)
    return app


# ---- rendering -------------------------------------------------------------------------------------


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    from ragft.report.html import environment

    html = environment("ragft.server").get_template(template).render(nav=_NAV, path=request.url.path, **values)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return page(request, "error.html", status=status, title=title, message=message, status_code=status)


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded body as {name: first value}, read up to the size limit (chunked bodies included)."""
    limit, body = request.app.state.max_body, bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise InputError("the form could not be read: send it as application/x-www-form-urlencoded UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


# ---- guard and errors ------------------------------------------------------------------------------


def _guard(app: FastAPI, token: str | None, bucket: TokenBucket, max_body: int) -> None:
    @app.middleware("http")
    async def guard(request: Request, call_next):
        client = request.client.host if request.client else "unknown"
        if not bucket.allow(client):
            response = error_page(request, 429, "Too many requests",
                                  "This server limits how often one client may ask. Wait a few seconds and retry.")
            response.headers["Retry-After"] = "5"
        elif not token and not is_loopback(request.url.hostname or ""):
            response = error_page(request, 400, "Unknown host",
                                  "Without an access token this server answers only to localhost and 127.0.0.1.")
        elif int(request.headers.get("content-length") or 0) > max_body:
            response = _too_large(request)
        elif token and request.url.path not in _OPEN_PATHS:
            response = await _authorised(request, call_next, token)
        else:
            response = await call_next(request)
        for key, value in _HEADERS.items():
            response.headers.setdefault(key, value)
        return response


async def _authorised(request: Request, call_next, token: str) -> Response:
    given = request.query_params.get("token")
    if given is not None and token_matches(given, token):
        rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response
    if token_matches(bearer(request.headers.get("authorization")), token) or \
            token_matches(request.cookies.get(TOKEN_COOKIE), token):
        return await call_next(request)
    return error_page(request, 401, "Access token needed",
                      "This ragft server was started with an access token. Open the link `ragft serve` printed "
                      "(it ends in ?token=...) or send the header Authorization: Bearer TOKEN.")


def _too_large(request: Request) -> HTMLResponse:
    limit = request.app.state.max_body
    return error_page(request, 413, "Request too large",
                      f"This server accepts requests of up to {limit // 1024} KB. Shorten the text and retry.")


def _error_pages(app: FastAPI) -> None:
    titles = {400: "Bad request", 401: "Access token needed", 404: "Not found", 405: "Method not allowed"}

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        message = error.detail if isinstance(error.detail, str) else "The request could not be served."
        if error.status_code == 404 and message == "Not Found":
            message = f"There is no page at {request.url.path}."
        return error_page(request, error.status_code, titles.get(error.status_code, "Error"), message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        return error_page(request, 422, "Invalid request", "Some of the request's values are missing or invalid.")

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, error: TooLarge):
        return _too_large(request)

    @app.exception_handler(RagftError)
    async def ragft_error(request: Request, error: RagftError):
        status = 404 if isinstance(error, NotFoundError) else 400 if isinstance(error, InputError) else 500
        return error_page(request, status, titles.get(status, "Something went wrong"), str(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error_page(request, 500, "Something went wrong",
                          "The server hit an unexpected error; its log has the details. Nothing was changed.")


# ---- the advisor ------------------------------------------------------------------------------------


def _advisor_routes(app: FastAPI) -> None:
    from ragft.server import forms

    @app.get("/", response_class=HTMLResponse)
    async def advisor(request: Request, example: str | None = None):
        values = forms.example_values(example) if example else {}
        return page(request, "advise.html", fields=forms.advisor_fields(values), examples=forms.examples(),
                    chosen=example, verdict=None, error=None)

    @app.post("/", response_class=HTMLResponse)
    async def advise(request: Request):
        form = await read_form(request)
        try:
            profile = forms.profile_from_form(form)
        except InputError as error:
            return page(request, "advise.html", status=422, fields=forms.advisor_fields(form),
                        examples=forms.examples(), chosen=None, verdict=None, error=str(error))
        from ragft.advise import advise as run_advise

        return page(request, "advise.html", fields=forms.advisor_fields(form), examples=forms.examples(),
                    chosen=None, verdict=run_advise(profile), profile=profile, error=None)


# ---- ask your docs -----------------------------------------------------------------------------------


def _question(form: dict[str, str]) -> str:
    question = " ".join(form.get("question", "").split())
    if not question:
        raise InputError("question: type a question first")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"question: {len(question)} characters; keep it under {MAX_QUESTION_CHARS}")
    return question


def _validate(form: dict[str, str]) -> str:
    """The optional `validate` field: off (default), flag or refuse (ragft.rag.answering)."""
    from ragft.rag.answering import VALIDATE_MODES

    value = form.get("validate", "").strip() or "off"
    if value not in VALIDATE_MODES:
        raise InputError(f"validate: {value!r} is not one of {', '.join(VALIDATE_MODES)}")
    return value


def _ask_routes(app: FastAPI) -> None:
    asker: Asker = app.state.asker

    @app.get("/ask", response_class=HTMLResponse)
    async def ask_form(request: Request):
        return page(request, "ask.html", ready=asker.ready, index_path=str(asker.index_path), question="",
                    answer=None)

    @app.post("/ask", response_class=HTMLResponse)
    async def ask(request: Request):
        form = await read_form(request)
        question, validate = _question(form), _validate(form)
        answer = await asker.ask(question, validate)
        status = 200 if not answer.get("error") else 404 if not asker.ready else 500
        return page(request, "ask.html", status=status, ready=asker.ready, index_path=str(asker.index_path),
                    question=question, answer=answer)

    @app.post("/ask/stream")
    async def ask_stream(request: Request):
        form = await read_form(request)
        question, validate = _question(form), _validate(form)

        async def lines():
            async for event in asker.stream(question, validate):
                yield json.dumps(event, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/static/ask.js")
    async def script():
        return PlainTextResponse((_STATIC / "ask.js").read_text(encoding="utf-8"),
                                 media_type="text/javascript; charset=utf-8")


# ---- runs and reports --------------------------------------------------------------------------------


def _run_routes(app: FastAPI) -> None:
    from ragft.report import list_runs, load_run, render_html, render_markdown, run_path

    runs_dir: Path = app.state.runs_dir

    def shown() -> list:
        """Newest first, the runs a report can be drawn for (and the unreadable ones, with their problem)."""
        return [run for run in reversed(list_runs(runs_dir)) if run.finished or run.problem]

    @app.get("/runs", response_class=HTMLResponse)
    async def runs(request: Request):
        return page(request, "runs.html", runs=shown(), runs_dir=str(runs_dir))

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    async def report(run_id: str):
        return HTMLResponse(render_html(load_run(run_path(runs_dir, run_id)), nav=_NAV))

    @app.get("/runs/{run_id}/report.md")
    async def report_markdown(run_id: str):
        text = render_markdown(load_run(run_path(runs_dir, run_id)))
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{run_id}-report.md"'})

    @app.get("/healthz")
    async def healthz():
        return JSONResponse({"status": "ok", "index": app.state.asker.ready, "runs": len(shown())})
