"""`make deploy-worker` against a local stand-in of RunPod's REST API that records every request."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.errors import RunPodRestError
from deploy.rest import RunPodRest
from deploy.settings import DeploySettings
from deploy.worker import main, run
from devstack.runpod_rest_stub import RunPodRestStub
from dispatcher.app import Dispatcher
from tests.conftest import ROOT
from worker.settings import WorkerSettings

IMAGE = "docker.io/acme/transcript-worker:0.1.0-vllm0.32.0-abc1234"


@pytest.fixture
def api() -> Iterator[RunPodRestStub]:
    with RunPodRestStub() as stub:
        yield stub


def _env(api: RunPodRestStub, **extra: str) -> dict[str, str]:
    return {"RUNPOD_API_KEY": api.api_key, "RUNPOD_REST_URL": api.base_url, "DEPLOY_IMAGE": IMAGE, **extra}


def _deploy(api: RunPodRestStub, *argv: str, **env: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), _env(api, **env), out)
    return code, out.getvalue()


def _writes(api: RunPodRestStub) -> list[tuple[str, str]]:
    return [(r.method, re.sub(r"/[0-9a-f]{10,14}$", "/{id}", r.path)) for r in api.writes()]


def _endpoint(api: RunPodRestStub) -> dict[str, Any]:
    (endpoint,) = api.endpoints.values()
    return endpoint


def _template(api: RunPodRestStub) -> dict[str, Any]:
    (template,) = [t for t in api.templates.values() if not t["isRunpod"]]
    return template


def test_first_run_creates_the_template_then_an_endpoint_using_it(api: RunPodRestStub) -> None:
    code, out = _deploy(api)
    assert code == 0, out
    assert _writes(api) == [("POST", "/v1/templates"), ("POST", "/v1/endpoints")]
    template, endpoint = _template(api), _endpoint(api)
    assert template["imageName"] == IMAGE and template["isServerless"] is True
    assert endpoint["templateId"] == template["id"]
    assert endpoint["workersMin"] == 0  # nothing billed while idle
    assert f"RUNPOD_ENDPOINT_URL=https://api.runpod.ai/v2/{endpoint['id']}" in out


def test_second_run_changes_nothing(api: RunPodRestStub) -> None:
    assert _deploy(api)[0] == 0
    before = len(api.writes())
    code, out = _deploy(api)
    assert code == 0
    assert len(api.writes()) == before  # only GETs the second time
    assert "template 'transcript-summarizer-worker'" in out and out.count(": unchanged") == 2


def test_a_new_image_patches_only_the_template_and_rolls_the_endpoint(api: RunPodRestStub) -> None:
    _deploy(api)
    version = _endpoint(api)["version"]
    api.requests.clear()
    new_image = IMAGE.replace("abc1234", "def5678")
    assert _deploy(api, "--image", new_image)[0] == 0
    (patch,) = api.writes()
    assert (patch.method, patch.path, patch.body) == (
        "PATCH",
        f"/v1/templates/{_template(api)['id']}",
        {"imageName": new_image},
    )
    assert _endpoint(api)["version"] == version + 1


def test_a_scaling_change_patches_only_the_changed_endpoint_fields(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    code, out = _deploy(api, "--workers-max", "5", "--idle-timeout", "120")
    assert code == 0 and "update: idleTimeout, workersMax\n" in out
    (patch,) = api.writes()
    assert patch.method == "PATCH" and patch.path == f"/v1/endpoints/{_endpoint(api)['id']}"
    # flashboot is not echoed by the API, so it rides along with any update rather than causing one.
    assert patch.body == {"workersMax": 5, "idleTimeout": 120, "flashboot": True}


def test_endpoint_execution_timeout_is_the_dispatchers_job_policy(api: RunPodRestStub) -> None:
    dispatcher_env = {
        "RUNPOD_API_KEY": "k",
        "RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/x",
        "AWS_REGION": "us-east-1",
    }
    for extra in ({}, {"JOB_EXECUTION_TIMEOUT_S": "900"}):
        api.endpoints.clear()
        _deploy(api, **extra)
        policy = Dispatcher.from_env({**dispatcher_env, **extra}).policy()
        assert _endpoint(api)["executionTimeoutMs"] == policy["executionTimeout"]


def test_template_env_is_an_environment_the_worker_accepts(api: RunPodRestStub) -> None:
    _deploy(api, "--preset", "yarn-mistral-7b-64k", "--env", "WORKER_MAX_MODEL_LEN=32768")
    env = _template(api)["env"]
    assert env["RUNPOD_LOG_LEVEL"] == "INFO"  # the SDK logs presigned URLs at DEBUG
    worker = WorkerSettings.from_env(env)
    engine = worker.engine_settings
    assert worker.engine == "vllm"
    assert (engine.preset, engine.max_model_len) == ("yarn-mistral-7b-64k", 32768)
    # a 48 GB preset gets 48 GB GPUs first
    assert _endpoint(api)["gpuTypeIds"][0] == "NVIDIA L40S"


def test_a_misspelt_worker_variable_fails_before_any_request(
    api: RunPodRestStub, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _deploy(api, "--env", "WORKER_MAX_OUTPUT_TOKEN=500")
    assert code == 2
    assert "WORKER_MAX_OUTPUT_TOKEN" in capsys.readouterr().err
    assert api.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "gpt-5"], "unknown model preset"),
        (["--workers-min", "3", "--workers-max", "2"], "DEPLOY_WORKERS_MIN"),
        (["--image", "docker.io/acme/worker"], "with a tag"),
        (["--env", "WORKER_CONCURRENCY=lots"], "WORKER_CONCURRENCY"),
    ],
)
def test_bad_settings_exit_2_naming_the_setting(
    api: RunPodRestStub, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert _deploy(api, *argv)[0] == 2
    assert message in capsys.readouterr().err
    assert api.requests == []


def test_dry_run_prints_the_requests_and_sends_none(api: RunPodRestStub) -> None:
    code, out = _deploy(api, "--dry-run")
    assert code == 0
    assert api.writes() == [] and {r.method for r in api.requests} == {"GET"}
    assert f"POST {api.base_url}/templates" in out and f"POST {api.base_url}/endpoints" in out
    assert '"imageName": "docker.io/acme/transcript-worker' in out
    assert api.api_key not in out and "Bearer ***" in out


def test_dry_run_after_a_deploy_shows_only_the_pending_change(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    code, out = _deploy(api, "--dry-run", "--workers-max", "4")
    assert code == 0 and api.writes() == []
    assert "template 'transcript-summarizer-worker'" in out and "unchanged" in out
    assert f"PATCH {api.base_url}/endpoints/{_endpoint(api)['id']}" in out and '"workersMax": 4' in out


def test_dry_run_without_an_api_key_shows_a_first_deployment() -> None:
    out = io.StringIO()
    assert main(["--dry-run"], {"DEPLOY_IMAGE": IMAGE}, out) == 0
    assert "POST https://rest.runpod.io/v1/templates" in out.getvalue()
    assert '"templateId": "<id of the template created above>"' in out.getvalue()


def test_a_real_run_without_an_api_key_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], {"DEPLOY_IMAGE": IMAGE}, io.StringIO()) == 2
    assert "RUNPOD_API_KEY is required" in capsys.readouterr().err


def test_a_wrong_api_key_exits_1_without_writing(
    api: RunPodRestStub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _deploy(api, RUNPOD_API_KEY="wrong")[0] == 1
    assert "RUNPOD_API_KEY" in capsys.readouterr().err
    assert api.writes() == []


def test_an_endpoint_named_with_the_flashboot_suffix_is_ours(api: RunPodRestStub) -> None:
    _deploy(api)
    _endpoint(api)["name"] += " -fb"
    api.requests.clear()
    assert _deploy(api)[0] == 0
    assert api.writes() == []


def test_two_endpoints_with_our_name_is_a_conflict_not_a_guess(
    api: RunPodRestStub, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(api)
    twin = dict(_endpoint(api), id="0123456789abcd")
    api.endpoints[twin["id"]] = twin
    api.requests.clear()
    assert _deploy(api)[0] == 1
    assert "2 endpoints are named 'transcript-summarizer'" in capsys.readouterr().err
    assert api.writes() == []


def test_a_pod_template_with_our_name_is_a_conflict(
    api: RunPodRestStub, capsys: pytest.CaptureFixture[str]
) -> None:
    api.templates["podtmpl001"] = {
        "id": "podtmpl001",
        "name": "transcript-summarizer-worker",
        "isServerless": False,
    }
    assert _deploy(api)[0] == 1
    assert "is a Pod template" in capsys.readouterr().err


def test_reads_are_retried_but_a_failed_create_is_not(api: RunPodRestStub) -> None:
    settings = DeploySettings.from_env(_env(api))
    rest = RunPodRest(settings.rest_url, api.api_key, sleep=lambda _s: None)
    api.fail_next.extend([("GET", 503), ("POST", 502)])
    with pytest.raises(RunPodRestError, match="HTTP 502"):
        run(settings, dry_run=False, out=io.StringIO(), rest=rest)
    assert [r.method for r in api.requests] == ["GET", "GET", "POST"]
    assert api.writes()[0].path == "/v1/templates" and len(api.writes()) == 1
    # The command is the retry: the next run creates what is missing.
    assert run(settings, dry_run=False, out=io.StringIO(), rest=rest)
    assert _writes(api)[1:] == [("POST", "/v1/templates"), ("POST", "/v1/endpoints")]


def test_network_volume_and_data_centers_reach_the_endpoint(api: RunPodRestStub) -> None:
    _deploy(api, "--network-volume-id", "vol123", "--data-centers", "EU-RO-1")
    endpoint = _endpoint(api)
    assert (endpoint["networkVolumeId"], endpoint["dataCenterIds"]) == ("vol123", ["EU-RO-1"])


def test_module_entrypoint_dry_run_runs_as_a_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.worker", "--dry-run", "--image", IMAGE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "POST https://rest.runpod.io/v1/endpoints" in result.stdout


def test_make_deploy_worker_passes_the_pinned_image_tag() -> None:
    pin = (ROOT / "VLLM_VERSION").read_text().strip()
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "deploy-worker", "IMAGE=docker.io/acme/w", "ARGS=--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert re.search(
        rf"-m deploy\.worker --image docker\.io/acme/w:[\w.]+-vllm{re.escape(pin)}-\w+ --dry-run",
        result.stdout,
    )


def test_delete_scales_the_endpoint_to_zero_then_removes_it_and_the_template(api: RunPodRestStub) -> None:
    _deploy(api)
    endpoint_id, template_id = _endpoint(api)["id"], _template(api)["id"]
    api.requests.clear()
    code, out = _deploy(api, "--delete", DEPLOY_IMAGE="")  # no image needed to tear down
    assert code == 0, out
    assert [(r.method, r.path, r.body) for r in api.writes()] == [
        ("PATCH", f"/v1/endpoints/{endpoint_id}", {"workersMin": 0, "workersMax": 0}),
        ("DELETE", f"/v1/endpoints/{endpoint_id}", None),
        ("DELETE", f"/v1/templates/{template_id}", None),
    ]
    assert api.endpoints == {} and all(t["isRunpod"] for t in api.templates.values())
    # Nothing left: a second teardown finds nothing and sends nothing.
    api.requests.clear()
    code, out = _deploy(api, "--delete")
    assert code == 0 and api.writes() == [] and out.count(": absent") == 2


def test_delete_dry_run_prints_the_deletes_and_sends_none(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    code, out = _deploy(api, "--delete", "--dry-run")
    assert code == 0 and api.writes() == []
    assert f"DELETE {api.base_url}/endpoints/{_endpoint(api)['id']}" in out
    assert f"DELETE {api.base_url}/templates/{_template(api)['id']}" in out


def test_every_flag_and_make_target_in_the_deploy_doc_exists() -> None:
    """docs/DEPLOY.md must not drift from the commands it documents."""
    from deploy.worker import _parser

    doc = (ROOT / "docs" / "DEPLOY.md").read_text() + (ROOT / "README.md").read_text()
    first_cells = re.findall(r"^\| (`--[^|]+)\|", doc, re.M)  # the flag tables' first column
    flags = {flag for cell in first_cells for flag in re.findall(r"--[a-z-]+", cell)}
    assert {"--preset", "--workers-max", "--execution-timeout", "--env"} <= flags
    known = {option for action in _parser()._actions for option in action.option_strings}
    assert flags <= known, flags - known
    targets = set(re.findall(r"\bmake ((?:[a-z-]+ ?)+)", doc))
    for target in {t for group in targets for t in group.split() if not t.startswith("-")}:
        result = subprocess.run(
            ["make", "--no-print-directory", "-n", target, "IMAGE=docker.io/acme/w"],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (target, result.stderr)
