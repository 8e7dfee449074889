"""Summary options and profiles through the whole local cloud (issue 20, "Done means"): moto S3 with
real user metadata, the S3 → dispatcher bridge, the RunPod emulator and a real worker process (the
extractive engine)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from client.cli import main
from devstack.cloud import CloudConfig, LocalCloud, dispatcher_env
from tests.support.metadata_schema import assert_valid
from tests.support.paths import ROOT
from tests.support.profiles import RETRO
from worker.meeting import LANGUAGES

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_bytes()


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # The user's profiles, defined once for the deployment (inline here; s3:// works the same).
    config = CloudConfig(
        worker_concurrency=2, dispatcher_env={"SUMMARY_PROFILES_URI": json.dumps({"profiles": [RETRO]})}
    )
    with LocalCloud(config) as running:
        yield running


def upload(cloud: LocalCloud, key: str, **metadata: str) -> dict[str, object]:
    cloud.s3.put_object(Bucket=cloud.config.bucket, Key=key, Body=SAMPLE, Metadata=metadata)
    meta = cloud.wait_for_metadata(key, 120)
    _, metadata_key = cloud.output_keys(key)
    assert_valid(cloud.read(metadata_key))
    return meta


def test_an_upload_with_a_language_and_a_style_gets_both(cloud: LocalCloud) -> None:
    meta = upload(cloud, "opts/french-brief.txt", **{"summary-language": "fr", "summary-style": "brief"})
    assert meta["status"] == "ok", meta["error"]
    options = meta["options"]
    assert options["style"] == "brief" and options["language"] == "fr"  # type: ignore[index]
    assert options["sources"]["style"] == "upload metadata"  # type: ignore[index]
    assert meta["language"]["used"] == "fr" and meta["language"]["detected"] == "en"  # type: ignore[index]
    summary_key, _ = cloud.output_keys("opts/french-brief.txt")
    summary = cloud.read(summary_key).decode()
    assert all(heading in summary for heading in LANGUAGES["fr"].headings)
    standard = upload(cloud, "opts/standard.txt")
    brief_items = len(meta["structure"]["key_points"])  # type: ignore[index]
    assert brief_items < len(standard["structure"]["key_points"])  # type: ignore[index]


def test_an_unknown_style_gets_error_metadata_naming_the_key(cloud: LocalCloud) -> None:
    meta = upload(cloud, "opts/bogus.txt", **{"summary-style": "bogus"})
    assert meta["status"] == "error" and meta["error"]["code"] == "invalid_options"  # type: ignore[index]
    assert "summary-style" in meta["error"]["message"]  # type: ignore[index]
    assert "brief, standard, detailed" in meta["error"]["message"]  # type: ignore[index]
    assert not [j for j in cloud.emulator.jobs.values() if j.input["source"]["key"] == "opts/bogus.txt"]


def test_a_user_profile_defined_once_is_used_by_name(cloud: LocalCloud) -> None:
    meta = upload(cloud, "opts/sprint-retro.txt", **{"summary-profile": "retro"})
    assert meta["status"] == "ok", meta["error"]
    assert meta["options"]["profile"] == "retro"  # type: ignore[index]
    assert meta["options"]["max_tokens_requested"] == 500  # the profile's length  # type: ignore[index]
    structure = meta["structure"]
    assert structure["profile"] == "retro" and structure["unfilled"] == ["to_improve"]  # type: ignore[index]
    summary_key, _ = cloud.output_keys("opts/sprint-retro.txt")
    assert "Went well" in cloud.read(summary_key).decode()


def test_client_submit_sends_the_options(cloud: LocalCloud, tmp_path: object) -> None:
    out, err = io.StringIO(), io.StringIO()
    env = dispatcher_env(
        cloud.emulator.endpoint_url,
        cloud.emulator.api_key,
        cloud.s3_endpoint,
        TRANSCRIPTS_BUCKET=cloud.config.bucket,
    )
    sample = str(ROOT / "samples" / "product_planning_meeting.txt")
    argv = [
        "submit",
        sample,
        "--key",
        "opts/cli.txt",
        "--style",
        "detailed",
        "--language",
        "de",
        "--profile",
        "standup",
    ]
    assert main([*argv, "--wait", "--interval", "0.3", "--timeout", "120"], env, out, err) == 0, (
        err.getvalue()
    )
    meta = cloud.wait_for_metadata("opts/cli.txt", 10)
    assert {k: meta["options"][k] for k in ("style", "language", "profile")} == {  # type: ignore[index]
        "style": "detailed",
        "language": "de",
        "profile": "standup",
    }
    bad = main(["submit", sample, "--key", "opts/x.txt", "--language", "de; drop"], env, io.StringIO(), err)
    assert bad == 2 and "--language: must be a language name or code" in err.getvalue()
