"""The client command against the whole local cloud: moto S3 + trigger bridge + dispatcher + RunPod
emulator + a real worker process. The same flags point it at AWS/RunPod."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.cli import Client, CliSettings, build_parser, main
from devstack.cloud import FAKE_CREDENTIALS, CloudConfig, LocalCloud, dispatcher_env
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.runpod_api import RunPodClient
from tests.support.paths import ROOT

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "samples" / "product_planning_meeting.txt"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(CloudConfig(worker_concurrency=2)) as running:
        yield running


def _env(cloud: LocalCloud, **extra: str) -> dict[str, str]:
    # The client reads the dispatcher's names for RunPod, S3 and the region, plus its bucket.
    return dispatcher_env(
        cloud.emulator.endpoint_url,
        cloud.emulator.api_key,
        cloud.s3_endpoint,
        TRANSCRIPTS_BUCKET=cloud.config.bucket,
        **extra,
    )


def _cli(cloud: LocalCloud, *argv: str, **extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), _env(cloud, **extra), out, err)
    return code, out.getvalue(), err.getvalue()


def _job_id(cloud: LocalCloud, key: str) -> str:
    (job_id,) = [j.id for j in cloud.emulator.jobs.values() if j.input.get("source", {}).get("key") == key]
    return job_id


def test_submit_and_wait_prints_the_summary_written_to_s3(cloud: LocalCloud) -> None:
    code, out, err = _cli(cloud, "submit", str(SAMPLE), "--wait", "--interval", "0.3", "--timeout", "120")
    assert code == 0, err
    key = "incoming/product_planning_meeting.txt"  # under the template's default input prefix
    summary_key, _ = cloud.output_keys(key)
    assert summary_key == "summaries/incoming/product_planning_meeting_summary.txt"
    assert out.rstrip("\n") == cloud.read(summary_key).decode().rstrip("\n")
    assert f"uploaded s3://transcripts/{key}" in err
    assert "waiting for s3://transcripts/summaries/incoming/product_planning_meeting_summary.json" in err
    assert "done: s3://transcripts/" + summary_key in err


def test_wait_with_a_job_id_shows_runpods_status_while_waiting(
    cloud: LocalCloud, emulator: RunPodEmulator
) -> None:
    # An endpoint with no worker: the job stays queued, so the status line is deterministic.
    job_id = RunPodClient(emulator.endpoint_url, emulator.api_key).submit({"text": "hi"}, {})
    env = {"RUNPOD_ENDPOINT_URL": emulator.endpoint_url, "RUNPOD_API_KEY": emulator.api_key}
    code, _, err = _cli(
        cloud, "wait", "queued/a.txt", "--job", job_id, "--interval", "0.2", "--timeout", "1", **env
    )
    assert code == 3 and "] IN_QUEUE" in err
    # RunPod says the job is over and the worker wrote nothing: no point waiting any longer.
    emulator.cancel(job_id)
    code, _, err = _cli(
        cloud, "wait", "queued/a.txt", "--job", job_id, "--interval", "0.2", "--timeout", "30", **env
    )
    assert code == 1 and "the job ended (CANCELLED) without writing summaries/queued/a_summary.json" in err


def test_status_prints_runpods_answer_as_json(cloud: LocalCloud) -> None:
    _cli(cloud, "submit", str(SAMPLE), "--key", "status/meeting.txt", "--wait", "--interval", "0.3")
    job_id = _job_id(cloud, "status/meeting.txt")
    code, out, _ = _cli(cloud, "status", job_id)
    assert code == 0
    answer = json.loads(out)
    assert answer["id"] == job_id and answer["status"] == "COMPLETED"
    assert answer["output"]["status"] == "ok"


def test_status_with_a_wrong_api_key_exits_1(cloud: LocalCloud) -> None:
    code, _, err = _cli(cloud, "status", "some-job", RUNPOD_API_KEY="wrong")
    assert code == 1 and "rejected the API key" in err


def test_resubmitting_a_key_waits_for_the_new_result_not_the_previous_one(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # The first upload of this key ends in an error; the second, good one must not be reported from
    # the first one's metadata, which is still there when the second `submit --wait` starts.
    meeting = tmp_path / "resubmitted.txt"
    meeting.write_bytes(b"")
    assert _cli(cloud, "submit", str(meeting), "--wait", "--interval", "0.3", "--timeout", "60")[0] == 1
    meeting.write_bytes(SAMPLE.read_bytes())
    code, out, err = _cli(cloud, "submit", str(meeting), "--wait", "--interval", "0.3", "--timeout", "120")
    assert code == 0, err
    assert "Action items" in out


def test_a_failed_job_exits_1_with_the_workers_error(cloud: LocalCloud, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, err = _cli(cloud, "submit", str(empty), "--wait", "--interval", "0.3", "--timeout", "60")
    assert code == 1 and out == ""
    assert "the job failed" in err and "invalid_transcript" in err


def test_wait_gives_up_after_the_timeout_with_exit_3(cloud: LocalCloud) -> None:
    code, _, err = _cli(cloud, "wait", "never/uploaded.txt", "--interval", "0.2", "--timeout", "1")
    assert code == 3 and "no summary after 1s" in err


def test_a_file_without_the_txt_suffix_is_uploaded_as_txt(cloud: LocalCloud, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(SAMPLE.read_text())
    code, _, err = _cli(cloud, "submit", str(notes))
    assert code == 0 and "uploading as incoming/notes.md.txt" in err
    assert cloud.read("incoming/notes.md.txt") == SAMPLE.read_bytes()


def test_missing_bucket_is_a_usage_error() -> None:
    err = io.StringIO()
    assert main(["submit", str(SAMPLE)], {"AWS_REGION": "us-east-1"}, io.StringIO(), err) == 2
    assert "TRANSCRIPTS_BUCKET" in err.getvalue()


def test_without_a_local_endpoint_the_same_flags_address_aws() -> None:
    args = build_parser().parse_args(
        ["--bucket", "acme-transcripts", "--region", "eu-west-1", "wait", "incoming/a.txt"]
    )
    settings = CliSettings.from_args(
        args, {"RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/abc", **FAKE_CREDENTIALS}
    )
    client = Client(settings, FAKE_CREDENTIALS, io.StringIO(), io.StringIO())
    assert client.s3.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    assert client.outputs("incoming/a.txt") == (
        "summaries/incoming/a_summary.txt",
        "summaries/incoming/a_summary.json",
    )
    assert settings.runpod_endpoint_url == "https://api.runpod.ai/v2/abc" and settings.runpod_api_key is None


def test_the_client_reads_the_environment_and_names_outputs_as_the_dispatcher_does() -> None:
    from dispatcher.events import ObjectRef
    from dispatcher.settings import Settings
    from dispatcher.upload import Upload

    env = {
        "RUNPOD_ENDPOINT_URL": " https://api.runpod.ai/v2/abc ",
        "RUNPOD_API_KEY": "k",
        "AWS_REGION": " eu-west-1 ",
        "TRANSCRIPTS_BUCKET": "acme",
        "OUTPUT_PREFIX": " out ",
        "OUTPUT_BUCKET": "",  # empty means unset, for both
        "INPUT_SUFFIXES": " .vtt , .txt ",
    }
    cli = CliSettings.from_args(build_parser().parse_args(["wait", "in/a.vtt"]), env)
    client = Client(cli, env, io.StringIO(), io.StringIO())
    upload = Upload.of(ObjectRef("acme", "in/a.vtt"), Settings.from_env(env))
    assert client.outputs("in/a.vtt") == (upload.summary_key, upload.metadata_key)
    assert client.output_bucket == upload.output_bucket
    assert (cli.region, cli.runpod_endpoint_url) == ("eu-west-1", "https://api.runpod.ai/v2/abc")


def test_runs_as_a_module(cloud: LocalCloud) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "client", "submit", str(SAMPLE), "--key", "module/run.txt", "--wait"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", **_env(cloud)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == cloud.read("summaries/module/run_summary.txt").decode().strip()


def test_client_command_lines_in_the_docs_parse() -> None:
    """Every `python -m client …` line in docs/DEPLOY.md and README.md is valid usage."""
    import re
    import shlex

    doc = (ROOT / "docs" / "DEPLOY.md").read_text() + (ROOT / "README.md").read_text()
    doc = doc.replace("\\\n", " ")
    lines = re.findall(r"-m client (.+)", doc)
    assert len(lines) >= 4
    for line in lines:
        words = shlex.split(re.sub(r"<[^>]+>", "x", line.split("#")[0].split("`")[0]))
        build_parser().parse_args(words)
