"""Provider fine-tuning jobs (OpenAI wire format over httpx) and the local ledger that remembers them.

Endpoints: POST /files (multipart, purpose=fine-tune), POST /fine_tuning/jobs, GET /fine_tuning/jobs/{id},
POST /fine_tuning/jobs/{id}/cancel, GET /fine_tuning/jobs?limit=N. The key comes from OPENAI_API_KEY and is
sent only in the Authorization header; it never appears in errors, the ledger or logs.
"""
from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from ragft.errors import InputError, NotFoundError, ProviderError
from ragft.llm.http import OPENAI_BASE_URL
from ragft.secrets import get_key

TERMINAL = ("succeeded", "failed", "cancelled")
DEFAULT_LEDGER = Path(".ragft") / "finetune-jobs.json"


class Job(BaseModel):
    """The fields of OpenAI's fine_tuning.job object that ragft uses."""

    id: str
    status: str
    model: str
    fine_tuned_model: str | None = None
    training_file: str | None = None
    validation_file: str | None = None
    trained_tokens: int | None = None
    created_at: int | None = None
    finished_at: int | None = None
    error: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


class OpenAIFineTuning:
    """A small client for OpenAI-compatible fine-tuning endpoints."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0):
        import httpx

        key = api_key or get_key("OPENAI_API_KEY")
        if not key:
            raise InputError("OPENAI_API_KEY is not set; export it to create or inspect fine-tuning jobs")
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL).rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {key}"})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ProviderError(f"{self.base_url}{path}: {type(error).__name__}: {error}; check the "
                                "network or --base-url") from None
        if response.status_code >= 400:
            raise ProviderError(f"{method} {path}: HTTP {response.status_code}: {_error_message(response)}")
        try:
            return response.json()
        except ValueError:
            raise ProviderError(f"{method} {path}: the server did not answer JSON") from None

    def upload_file(self, path: str | Path) -> str:
        path = Path(path)
        if not path.is_file():
            raise NotFoundError(f"{path}: no such training file")
        with path.open("rb") as handle:
            body = self._call("POST", "/files", data={"purpose": "fine-tune"},
                              files={"file": (path.name, handle, "application/jsonl")})
        return body["id"]

    def create_job(self, training_file: str, model: str, *, validation_file: str | None = None,
                   hyperparameters: dict[str, Any] | None = None, suffix: str | None = None,
                   seed: int | None = None) -> Job:
        payload: dict[str, Any] = {"training_file": training_file, "model": model}
        if hyperparameters:
            payload["method"] = {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}}
        for key, value in (("validation_file", validation_file), ("suffix", suffix), ("seed", seed)):
            if value is not None:
                payload[key] = value
        return Job.model_validate(self._call("POST", "/fine_tuning/jobs", json=payload))

    def get_job(self, job_id: str) -> Job:
        return Job.model_validate(self._call("GET", f"/fine_tuning/jobs/{job_id}"))

    def cancel_job(self, job_id: str) -> Job:
        return Job.model_validate(self._call("POST", f"/fine_tuning/jobs/{job_id}/cancel"))

    def list_jobs(self, limit: int = 20) -> list[Job]:
        body = self._call("GET", "/fine_tuning/jobs", params={"limit": limit})
        return [Job.model_validate(j) for j in body.get("data", [])]

    def wait(self, job_id: str, *, first_interval: float = 5.0, max_interval: float = 60.0,
             timeout: float = 24 * 3600, sleep: Callable[[float], None] = time.sleep,
             on_status: Callable[[Job], None] | None = None) -> Job:
        """Poll with exponential backoff until the job succeeds, fails or is cancelled."""
        interval, waited = first_interval, 0.0
        while True:
            job = self.get_job(job_id)
            if on_status:
                on_status(job)
            if job.done:
                return job
            if waited >= timeout:
                raise ProviderError(f"job {job_id}: still {job.status} after {waited:.0f} s; "
                                    f"check later with `ragft finetune jobs status {job_id}`")
            sleep(interval)
            waited += interval
            interval = min(max_interval, interval * 1.5)


def _error_message(response: Any) -> str:
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or error)[:300]
    except (ValueError, AttributeError):
        return response.text[:300] or response.reason_phrase


def catalog_model_name(model: str) -> str:
    """A dated snapshot name (gpt-4.1-mini-2025-04-14) to its catalog row name (gpt-4.1-mini)."""
    return re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model)


class JobsLedger:
    """A JSON file of the jobs ragft created: id, model, status, fine_tuned_model, data hash, timestamps."""

    def __init__(self, path: str | Path = DEFAULT_LEDGER):
        self.path = Path(path)

    def entries(self) -> dict[str, dict[str, Any]]:
        if not self.path.is_file():
            return {}
        try:
            return json.loads(self.path.read_text())
        except ValueError:
            raise InputError(f"{self.path}: not valid JSON; fix or delete the jobs ledger") from None

    def record(self, job: Job, **extra: Any) -> dict[str, Any]:
        from ragft.files import write_atomic

        entries = self.entries()
        entry = entries.get(job.id, {}) | extra | job.model_dump(
            include={"id", "status", "model", "fine_tuned_model", "training_file", "trained_tokens", "created_at",
                     "finished_at"})
        entry["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        entries[job.id] = entry
        write_atomic(self.path, json.dumps(entries, indent=2))
        return entry

    def find(self, job_id: str | None = None, model: str | None = None) -> dict[str, Any] | None:
        """The recorded job with this id, else the (latest recorded) one that produced this fine-tuned model."""
        entries = self.entries()
        if job_id is not None:
            return entries.get(job_id)
        made = [e for e in entries.values() if model is not None and e.get("fine_tuned_model") == model]
        return max(made, key=lambda e: e.get("updated_at") or "") if made else None

    def tuned_model(self, job_id: str) -> str:
        """The fine-tuned model a recorded, succeeded job produced; a one-line error naming the fix otherwise."""
        entry = self.find(job_id)
        if entry is None:
            raise NotFoundError(f"{self.path}: no job {job_id} recorded; record it with "
                                f"`ragft finetune jobs status {job_id}` or give --tuned-model NAME")
        if not entry.get("fine_tuned_model"):
            raise InputError(f"job {job_id} is {entry.get('status')!r} in {self.path}, with no fine-tuned model yet; "
                             f"wait for it with `ragft finetune jobs status {job_id} --wait`")
        return entry["fine_tuned_model"]


def training_record(entry: dict[str, Any]) -> dict[str, Any]:
    """What an eval run keeps of a recorded job: its base model, trained tokens, the number of training
    examples (lines of the data file, when it is still there) and the seconds from creation to the tuned model."""
    created, finished = entry.get("created_at"), entry.get("finished_at")
    seconds = float(finished - created) if isinstance(created, int) and isinstance(finished, int) else None
    examples = None
    data_file = Path(entry["data_file"]) if entry.get("data_file") else None
    if data_file is not None and data_file.is_file():
        examples = sum(1 for line in data_file.read_text(encoding="utf-8").splitlines() if line.strip())
    return {"job": entry.get("id"), "status": entry.get("status"), "base": entry.get("model"),
            "trained_tokens": entry.get("trained_tokens"), "examples": examples, "training_seconds": seconds,
            "base_url": entry.get("base_url")}
