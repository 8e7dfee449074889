"""The newest version wins, in the worker: jobs built by the dispatcher's own code, run by the real
`JobRunner` (extractive engine, real transfers) against moto over HTTP, in every finishing order.

tests/e2e/test_versions.py runs the same rule through the whole local cloud with a worker process; these
run in-process so every order of three versions, deletions and odd keys stay cheap.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dispatcher.events import ObjectRef
from dispatcher.job import build_job_input
from dispatcher.presign import Presigner
from dispatcher.settings import Settings
from dispatcher.upload import Upload
from tests.support.dispatch import DispatcherEnv
from tests.support.jobs import outputs, run_job, upload

VERSIONS = [
    b"Alice: Version one says the launch is in March.\nBob: I will book the hall by Friday.\n",
    b"Alice: Version two moves the launch to April.\nBob: I will move the booking by Monday.\n",
    b"Alice: Version three moves the launch to May.\nBob: I will confirm the hall by Tuesday.\n",
]


@pytest.fixture
def settings(dispatcher_env: DispatcherEnv) -> Settings:
    return Settings.from_env(dispatcher_env())


@pytest.fixture
def versioned(s3: Any, bucket: str) -> str:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_three_versions_finishing_in_any_order_leave_the_newest_summary(
    s3: Any, versioned: str, presigner: Presigner, settings: Settings, order: tuple[int, ...]
) -> None:
    key = "plans/launch.txt"
    refs = [upload(s3, versioned, key, body) for body in VERSIONS]
    jobs = [build_job_input(Upload.of(ref, settings), presigner, settings) for ref in refs]
    results = {n: run_job(jobs[n]) for n in order}
    assert results[2]["status"] == "ok"
    assert results[0]["status"] == results[1]["status"] == "superseded"
    summary, meta = outputs(s3, versioned, key, settings)
    assert "May" in summary and "March" not in summary and "April" not in summary
    assert meta["status"] == "ok" and meta["source"]["version_id"] == refs[2].version_id


def test_the_same_bytes_uploaded_again_supersede_the_older_version(
    s3: Any, versioned: str, presigner: Presigner, settings: Settings
) -> None:
    key = "plans/same.txt"
    first, second = (upload(s3, versioned, key, VERSIONS[0]) for _ in range(2))
    assert first.etag == second.etag and first.version_id != second.version_id
    assert run_job(build_job_input(Upload.of(second, settings), presigner, settings))["status"] == "ok"
    assert run_job(build_job_input(Upload.of(first, settings), presigner, settings))["status"] == "superseded"
    assert outputs(s3, versioned, key, settings)[1]["source"]["version_id"] == second.version_id
    # A second job for the newest version is a duplicate: no model work, no write.
    assert run_job(build_job_input(Upload.of(second, settings), presigner, settings))["status"] == "duplicate"


def test_a_version_deleted_after_upload_writes_nothing_over_the_newer_summary(
    s3: Any, versioned: str, presigner: Presigner, settings: Settings
) -> None:
    key = "plans/deleted.txt"
    old, new = (upload(s3, versioned, key, body) for body in VERSIONS[:2])
    assert run_job(build_job_input(Upload.of(new, settings), presigner, settings))["status"] == "ok"
    s3.delete_object(Bucket=versioned, Key=key)  # a delete marker is now the current version
    for ref in (old, new):
        result = run_job(build_job_input(Upload.of(ref, settings), presigner, settings))
        assert result["status"] == "superseded" and "deleted" in result["reason"]
    summary, meta = outputs(s3, versioned, key, settings)
    assert "April" in summary and meta["source"]["version_id"] == new.version_id


@pytest.mark.parametrize(
    "key",
    ["odd/a b+c.txt", "odd/100%.txt", "odd/Résumé 会议.txt", "odd/what?#1.txt", "odd/a%2Fb.txt"],
)
def test_keys_with_special_characters_keep_the_newest_version(
    s3: Any, versioned: str, presigner: Presigner, settings: Settings, key: str
) -> None:
    old, new = (upload(s3, versioned, key, body) for body in VERSIONS[:2])
    assert run_job(build_job_input(Upload.of(new, settings), presigner, settings))["status"] == "ok"
    assert run_job(build_job_input(Upload.of(old, settings), presigner, settings))["status"] == "superseded"
    summary, meta = outputs(s3, versioned, key, settings)
    assert "April" in summary and meta["source"] == {
        "bucket": versioned,
        "key": key,
        "version_id": new.version_id,
        "etag": new.etag,
        "size": len(VERSIONS[1]),
    }


def test_unversioned_bucket_tells_versions_apart_by_etag_including_multipart_etags(
    s3: Any, bucket: str, presigner: Presigner, settings: Settings
) -> None:
    key = "plans/unversioned.txt"
    old = upload(s3, bucket, key, VERSIONS[0])
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=VERSIONS[1])
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    new = ObjectRef(bucket, key, None, done["ETag"].strip('"'), len(VERSIONS[1]))
    assert "-" in (new.etag or "")  # a multipart ETag: "<md5 of md5s>-<parts>"
    assert run_job(build_job_input(Upload.of(old, settings), presigner, settings))["status"] == "superseded"
    assert run_job(build_job_input(Upload.of(new, settings), presigner, settings))["status"] == "ok"
    assert outputs(s3, bucket, key, settings)[1]["source"]["etag"] == new.etag
