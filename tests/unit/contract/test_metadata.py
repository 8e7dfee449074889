"""The metadata document is one declared type with a published schema, and every writer keeps to it.

The schema file (docs/metadata.schema.json) is what `contract.metadata.json_schema()` derives from
the type; every document the worker writes (ok, and each error code, through the real JobRunner and
moto over HTTP) validates against it. The reconciler's own documents are walked in
tests/unit/dispatcher/test_reconcile_decisions.py.
"""

from __future__ import annotations

import ast
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contract.metadata import RECONCILER_CODES, WORKER_CODES, json_schema
from dispatcher.outcomes import DECISIONS
from dispatcher.presign import Presigner
from tests.support.fakes import FakeEngine, RaisingEngine
from tests.support.jobs import META_KEY, pull_job, run_job
from tests.support.metadata_schema import SCHEMA_FILE, assert_valid, validator
from tests.support.paths import ROOT
from worker import errors
from worker.engines import Completion, SummaryOptions, SummaryTask
from worker.job import SUMMARY_CONTENT_TYPE

MEETING = (
    "Alice: Welcome everyone, today we plan the release of the payments feature.\n"
    "Bob: The payment screen still crashes on older Android phones, which is the main risk.\n"
    "Carol: Then we decided to move the release date to the fourteenth of March.\n"
    "Bob: I'll update the release notes and tell support about the new date by Friday.\n"
) * 4


def test_the_published_schema_is_what_the_type_generates() -> None:
    # After changing contract/metadata.py: python -m contract.metadata > docs/metadata.schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()
    Draft202012Validator.check_schema(json_schema())


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def test_the_declared_codes_are_every_worker_error_and_every_reconciler_outcome() -> None:
    worker_codes = {cls.code for cls in _subclasses(errors.WorkerError)}
    assert set(WORKER_CODES) == worker_codes | {"internal_error"}
    written = {d.code for d in DECISIONS.values() if d.retry or d.code in RECONCILER_CODES}
    assert written == set(RECONCILER_CODES)


def test_options_in_the_metadata_are_every_job_option_and_the_grant() -> None:
    options = json_schema()["$defs"]["Options"]["properties"]
    granted = {"max_tokens_requested", "max_tokens_granted", "sources"}
    assert set(options) == set(SummaryOptions.model_fields) | granted


def test_ok_and_error_are_told_apart_by_the_schema() -> None:
    ok = {
        "schema": 1,
        "job_id": "j",
        "status": "ok",
        "error": None,
        "engine": "fixed",
        "model": "m",
        "extractive": False,
        "max_model_len": 1,
        "source": None,
        "timings": {"total_s": 0.1},
        "finished_at": "2026-12-04T10:00:00+00:00",
        "cost": None,
    }
    assert validator().is_valid(ok)
    assert not validator().is_valid(ok | {"status": "error"})  # an error without its code
    assert not validator().is_valid(ok | {"error": {"code": "job_failed", "message": "x"}})
    assert not validator().is_valid(ok | {"unknown": 1})  # a new key must be declared first
    assert not validator().is_valid(ok | {"error": {"code": "made_up", "message": "x"}, "status": "error"})


# ---- every document the worker writes ---------------------------------------------------------------
class StuckEngine(FakeEngine):
    """Never answers: the job is still waiting when the platform stops it."""

    def __init__(self) -> None:
        super().__init__(max_model_len=4000)
        self.reached = asyncio.Event()

    async def complete(self, task: SummaryTask) -> Completion:
        self.reached.set()
        await asyncio.sleep(3600)
        raise AssertionError("not reached")


def _raising(error: BaseException) -> Callable[[dict[str, Any], Presigner, str], dict[str, Any]]:
    def case(job: dict[str, Any], presigner: Presigner, bucket: str) -> dict[str, Any]:
        return run_job(job, engine=RaisingEngine(error), engine_may_die=True)

    return case


def _with(**changes: Any) -> Callable[[dict[str, Any], Presigner, str], dict[str, Any]]:
    def case(job: dict[str, Any], presigner: Presigner, bucket: str) -> dict[str, Any]:
        return run_job(job | changes)

    return case


def _missing_transcript(job: dict[str, Any], presigner: Presigner, bucket: str) -> dict[str, Any]:
    return run_job(job | {"transcript_url": presigner.get(bucket, "deleted.txt")})


def _no_summary_bucket(job: dict[str, Any], presigner: Presigner, bucket: str) -> dict[str, Any]:
    put = presigner.put("no-such-bucket-for-summaries", "s.txt", SUMMARY_CONTENT_TYPE)
    return run_job(job | {"summary_put_url": put})


def _stopped(job: dict[str, Any], presigner: Presigner, bucket: str) -> dict[str, Any]:
    engine = StuckEngine()
    return run_job(job, engine=engine, stop_when=engine.reached, engine_may_die=True)


# Each code the worker can write, reached the way it is in production where a test can (a bad
# field, a missing object, a refused PUT, a cancelled task), else by an engine raising its error.
WORKER_CASES: dict[str, Callable[[dict[str, Any], Presigner, str], dict[str, Any]]] = {
    "ok": _with(),
    "invalid_input": _with(options={"style": "haiku"}, source={"bucket": "b", "key": "\ud800", "x": 1e999}),
    "invalid_transcript": _with(),  # an empty file (BODIES)
    "url_not_allowed": _with(transcript_url="ftp://127.0.0.1/m.txt"),
    "download_failed": _missing_transcript,
    "upload_failed": _no_summary_bucket,
    "engine_failed": _raising(errors.EngineError("the model server answered HTTP 500")),
    "engine_unavailable": _raising(errors.EngineUnavailableError("the model server exited")),
    "job_stopped": _stopped,
    "internal_error": _raising(ZeroDivisionError("a bug")),
    "worker_error": _raising(errors.WorkerError("an error of the base class")),
    "transfer_failed": _raising(errors.TransferError("a transfer error of the base class")),
    "config_error": _raising(errors.ConfigError("a setting found wrong mid-job")),
}


BODIES = {"invalid_transcript": b""}


def test_every_worker_code_has_a_case() -> None:
    assert set(WORKER_CASES) == set(WORKER_CODES) | {"ok"}


@pytest.mark.parametrize("code", WORKER_CASES)
def test_every_metadata_the_worker_writes_validates_against_the_schema(
    code: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    job = pull_job(s3, bucket, presigner, BODIES.get(code, MEETING.encode()), max_tokens=120)
    result = WORKER_CASES[code](job, presigner, bucket)
    meta = assert_valid(s3.get_object(Bucket=bucket, Key=META_KEY)["Body"].read())
    if code == "ok":
        assert result["status"] == "ok" and meta["status"] == "ok" and meta["structure"]["parsed"]
    else:
        assert meta["status"] == "error" and meta["error"]["code"] == code, (result, meta["error"])
    assert meta["engine"] and meta["model"] and "total_s" in meta["timings"]


def test_the_contract_imports_only_the_standard_library() -> None:
    # Both deployables ship it: the Lambda has no pydantic, the image no dispatcher.
    imported = set()
    for path in (ROOT / "contract").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    imported.discard("contract")  # its own modules (the options vocabulary, the profiles)
    assert imported and imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names
