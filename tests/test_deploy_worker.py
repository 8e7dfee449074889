"""`make deploy-worker` against a local stand-in of RunPod's REST API v2 that records every request."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.errors import RunPodRestError
from deploy.rest import Request, RunPodRest
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
    (template,) = api.templates.values()
    return template


def test_first_run_creates_the_template_then_an_endpoint_using_it(api: RunPodRestStub) -> None:
    code, out = _deploy(api)
    assert code == 0, out
    assert _writes(api) == [("POST", "/v2/templates"), ("POST", "/v2/serverless")]
    template, endpoint = _template(api), _endpoint(api)
    assert template["image"] == IMAGE and template["serverless"] is True
    assert (template["startSsh"], template["startJupyter"]) == (False, False)
    assert api.writes()[1].body["templateId"] == template["id"]
    assert (endpoint["type"], endpoint["image"], endpoint["env"]) == ("QUEUE", IMAGE, template["env"])
    assert endpoint["workers"] == {"min": 0, "max": 2, "idleTimeout": 30}  # nothing billed while idle
    assert endpoint["scaling"] == {"type": "QUEUE_DELAY", "queueDelay": 4}
    assert endpoint["flashboot"] == "FLASHBOOT"  # as RunPod's console; v2's API default is OFF
    assert endpoint["gpu"]["pools"] == ["ADA_80_PRO", "AMPERE_80"] and endpoint["gpu"]["count"] == 1
    assert endpoint["gpu"]["minCudaVersion"] == "13.0"  # the image's CUDA: older drivers crash it
    assert f"RUNPOD_ENDPOINT_URL=https://api.runpod.ai/v2/{endpoint['id']}" in out


def test_second_run_changes_nothing(api: RunPodRestStub) -> None:
    assert _deploy(api)[0] == 0
    before = len(api.writes())
    code, out = _deploy(api)
    assert code == 0
    assert len(api.writes()) == before  # only GETs the second time
    assert "template 'transcript-summarizer-worker'" in out and out.count(": unchanged") == 2


def test_a_new_image_patches_the_image_of_the_template_and_of_the_endpoint(api: RunPodRestStub) -> None:
    """A v2 endpoint keeps its own copy of the template's image: patching the template alone would
    leave the workers on the old one."""
    _deploy(api)
    api.requests.clear()
    new_image = IMAGE.replace("abc1234", "def5678")
    assert _deploy(api, "--image", new_image)[0] == 0
    assert [(r.method, r.path, r.body) for r in api.writes()] == [
        ("PATCH", f"/v2/templates/{_template(api)['id']}", {"image": new_image}),
        ("PATCH", f"/v2/serverless/{_endpoint(api)['id']}", {"image": new_image}),
    ]
    assert _endpoint(api)["image"] == new_image


def test_a_scaling_change_patches_only_the_changed_endpoint_fields(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    code, out = _deploy(api, "--workers-max", "5", "--idle-timeout", "120")
    assert code == 0 and "update: workers\n" in out
    (patch,) = api.writes()
    assert patch.method == "PATCH" and patch.path == f"/v2/serverless/{_endpoint(api)['id']}"
    assert patch.body == {"workers": {"min": 0, "max": 5, "idleTimeout": 120}}


def test_flashboot_is_on_unless_turned_off_and_a_change_patches_only_it(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    assert _deploy(api, "--flashboot", "off")[0] == 0
    (patch,) = api.writes()
    assert patch.body == {"flashboot": "OFF"} and _endpoint(api)["flashboot"] == "OFF"


def test_an_endpoint_without_a_cuda_floor_gets_the_images(api: RunPodRestStub) -> None:
    """An endpoint deployed before the floor existed keeps placing workers on any driver: one PATCH
    of its gpu block (pools and count restated, as v2 replaces the pool selection with them)."""
    _deploy(api)
    endpoint = _endpoint(api)
    endpoint["gpu"]["minCudaVersion"] = None
    api.requests.clear()
    assert _deploy(api)[0] == 0
    (patch,) = api.writes()
    assert patch.body == {"gpu": {"pools": ["ADA_80_PRO", "AMPERE_80"], "count": 1, "minCudaVersion": "13.0"}}
    assert _endpoint(api)["gpu"]["minCudaVersion"] == "13.0"
    assert (
        _deploy(api, "--min-cuda-version", "13.1")[0] == 0
        and _endpoint(api)["gpu"]["minCudaVersion"] == "13.1"
    )


def test_the_stubs_cuda_and_flashboot_fields_are_runpods_published_schema() -> None:
    """The stand-in checks the field names, patterns and enum of runpod/docs' openapi.json
    (tests/fixtures/runpod/openapi-v2-excerpt.json, verbatim schemas)."""
    import json

    from devstack import runpod_rest_stub as stub

    schemas = json.loads((ROOT / "tests" / "fixtures" / "runpod" / "openapi-v2-excerpt.json").read_text())[
        "schemas"
    ]
    assert list(stub.FLASHBOOT) == schemas["FlashBoot"]["enum"]
    for name, fields in (("CreateEndpointGpuConfig", stub.GPU), ("UpdateEndpointGpuConfig", stub.GPU_UPDATE)):
        properties = {
            **schemas["BaseEndpointGpuConfig"]["properties"],
            **schemas[name]["allOf"][1]["properties"],
        }
        assert set(fields) == set(properties), name
        assert fields["minCudaVersion"].pattern == properties["minCudaVersion"]["pattern"], name
        assert (
            fields["allowedCudaVersions"].pattern.pattern
            == properties["allowedCudaVersions"]["items"]["pattern"]
        )
    template_cuda = schemas["CreateTemplateRequest.allowedCudaVersions"]
    assert stub.TEMPLATE["allowedCudaVersions"].pattern.pattern == template_cuda["items"]["pattern"]


def test_the_stub_refuses_cuda_constraints_as_v2_does(api: RunPodRestStub) -> None:
    rest = RunPodRest(api.base_url, api.api_key)
    body = {"name": "e", "type": "QUEUE", "image": "i:1", "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
    with pytest.raises(RunPodRestError, match=r"\$\.gpu\.minCudaVersion: must be a string matching"):
        rest.send(
            Request("POST", "/serverless", {**body, "gpu": {"pools": ["AMPERE_80"], "minCudaVersion": "13"}})
        )
    both = {"pools": ["AMPERE_80"], "minCudaVersion": "13.0", "allowedCudaVersions": ["13.0"]}
    with pytest.raises(
        RunPodRestError, match=r"400 Bad Request: gpu\.allowedCudaVersions and gpu\.minCudaVersion"
    ):
        rest.send(Request("POST", "/serverless", {**body, "gpu": both}))


def test_the_dry_run_shows_the_cuda_floor_flashboot_and_readable_limits(api: RunPodRestStub) -> None:
    code, out = _deploy(api, "--dry-run", "--env", "HF_TOKEN=hf_very_secret")
    assert code == 0
    assert '"minCudaVersion": "13.0"' in out and '"flashboot": "FLASHBOOT"' in out
    assert '"WORKER_MAX_OUTPUT_TOKENS": "16000"' in out  # a number, not a secret
    assert '"HF_TOKEN": "***"' in out


def test_request_count_scaling_sends_no_idle_timeout_which_v2_refuses(api: RunPodRestStub) -> None:
    code, out = _deploy(api, "--scaler-type", "REQUEST_COUNT", "--scaler-value", "2")
    assert code == 0, out
    endpoint = _endpoint(api)
    assert endpoint["scaling"] == {"type": "REQUEST_COUNT", "requestCount": 2}
    assert "idleTimeout" not in api.writes()[1].body["workers"]
    api.requests.clear()
    assert _deploy(api, "--scaler-type", "REQUEST_COUNT", "--scaler-value", "2")[0] == 0
    assert api.writes() == []  # the echo (without idleTimeout) matches: nothing to do


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
        # v2's default (300000 ms) would kill long transcripts: the endpoint allows what a job may use.
        assert _endpoint(api)["timeout"] == policy["executionTimeout"]


def test_template_env_is_an_environment_the_worker_accepts(api: RunPodRestStub) -> None:
    _deploy(api, "--preset", "yarn-mistral-7b-64k", "--env", "WORKER_MAX_MODEL_LEN=32768")
    env = _template(api)["env"]
    assert env["RUNPOD_LOG_LEVEL"] == "INFO"  # the SDK logs presigned URLs at DEBUG
    worker = WorkerSettings.from_env(env)
    engine = worker.engine_settings
    assert worker.engine == "vllm"
    assert (engine.preset, engine.max_model_len) == ("yarn-mistral-7b-64k", 32768)
    # a 48 GB preset gets the 48 GB pools
    assert _endpoint(api)["gpu"]["pools"] == ["ADA_48_PRO", "AMPERE_48"]


def test_runpod_init_timeout_outlasts_the_workers_vllm_startup(api: RunPodRestStub) -> None:
    _deploy(api)
    env = _template(api)["env"]
    startup = WorkerSettings.from_env(env).engine_settings.vllm_startup_timeout_s
    assert int(env["RUNPOD_INIT_TIMEOUT"]) > startup > 7 * 60  # RunPod's default would cut it at ~7 min
    api.templates.clear()
    api.endpoints.clear()
    _deploy(api, "--env", "WORKER_VLLM_STARTUP_TIMEOUT_S=900")
    assert _template(api)["env"]["RUNPOD_INIT_TIMEOUT"] == "1020"


def test_dry_run_masks_secret_looking_worker_variables(api: RunPodRestStub) -> None:
    code, out = _deploy(api, "--dry-run", "--env", "HF_TOKEN=hf_very_secret")
    assert code == 0
    assert "hf_very_secret" not in out and '"HF_TOKEN": "***"' in out


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
        (["--image", "transcript-summarizer-worker:0.1.0"], "IMAGE=<registry host>/<name>"),
        (["--image", "acme/worker:0.1.0"], "names no registry host"),
        (["--flashboot", "true"], "DEPLOY_FLASHBOOT must be one of OFF, FLASHBOOT, PRIORITY_FLASHBOOT"),
        (["--min-cuda-version", "13"], "DEPLOY_MIN_CUDA_VERSION must be a CUDA version as major.minor"),
        (["--preset", "llama-3.1-8b-instruct"], "gated model: set HF_TOKEN"),
        (["--scaler-type", "REQUEST_COUNT", "--idle-timeout", "60"], "REQUEST_COUNT"),
        (["--env", "RUNPOD_INIT_TIMEOUT=300"], "shorter than WORKER_VLLM_STARTUP_TIMEOUT_S"),
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
    assert f"POST {api.base_url}/templates" in out and f"POST {api.base_url}/serverless" in out
    assert '"image": "docker.io/acme/transcript-worker' in out and '"timeout": 600000' in out
    assert api.api_key not in out and "Bearer ***" in out


def test_dry_run_after_a_deploy_shows_only_the_pending_change(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    code, out = _deploy(api, "--dry-run", "--workers-max", "4")
    assert code == 0 and api.writes() == []
    assert "template 'transcript-summarizer-worker'" in out and "unchanged" in out
    assert f"PATCH {api.base_url}/serverless/{_endpoint(api)['id']}" in out and '"max": 4' in out


def test_dry_run_without_an_api_key_shows_a_first_deployment() -> None:
    out = io.StringIO()
    assert main(["--dry-run"], {"DEPLOY_IMAGE": IMAGE}, out) == 0
    assert "POST https://api.runpod.io/v2/templates" in out.getvalue()
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
        "serverless": False,
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
    assert api.writes()[0].path == "/v2/templates" and len(api.writes()) == 1
    # The command is the retry: the next run creates what is missing.
    assert run(settings, dry_run=False, out=io.StringIO(), rest=rest)
    assert _writes(api)[1:] == [("POST", "/v2/templates"), ("POST", "/v2/serverless")]


def test_a_problem_answer_is_shown_as_one_readable_line(
    api: RunPodRestStub, capsys: pytest.CaptureFixture[str]
) -> None:
    api.fail_next.append(
        ("POST", 422, "$.gpu.pools: must have at least 1 item", "$.timeout: must be integer")
    )
    assert _deploy(api)[0] == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "error: POST /templates failed: 422 Unprocessable Entity: injected 422 "
        "($.gpu.pools: must have at least 1 item; $.timeout: must be integer)"
    )


def test_the_stub_refuses_a_v1_shaped_body_as_the_v2_schema_does(api: RunPodRestStub) -> None:
    rest = RunPodRest(api.base_url, api.api_key)
    v1_body = {"name": "x", "templateId": "t", "workersMin": 0, "scalerType": "QUEUE_DELAY"}
    with pytest.raises(RunPodRestError) as caught:
        rest.send(Request("POST", "/serverless", v1_body))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("POST /serverless failed: 422 Unprocessable Entity")
    assert "additional properties 'workersMin' not allowed" in message
    assert "missing property 'type'" in message and "missing property 'scaling'" in message


def test_network_volume_and_data_centers_reach_the_endpoint(api: RunPodRestStub) -> None:
    _deploy(api, "--network-volume-id", "vol123", "--data-centers", "EU-RO-1")
    endpoint = _endpoint(api)
    assert (endpoint["networkVolumes"], endpoint["dataCenterIds"]) == (["vol123"], ["EU-RO-1"])


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
    assert "POST https://api.runpod.io/v2/serverless" in result.stdout


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
        ("PATCH", f"/v2/serverless/{endpoint_id}", {"workers": {"min": 0, "max": 0}}),
        ("DELETE", f"/v2/serverless/{endpoint_id}", None),
        ("DELETE", f"/v2/templates/{template_id}", None),
    ]
    assert api.endpoints == {} and api.templates == {}
    # Nothing left: a second teardown finds nothing and sends nothing.
    api.requests.clear()
    code, out = _deploy(api, "--delete")
    assert code == 0 and api.writes() == [] and out.count(": absent") == 2


def test_delete_dry_run_prints_the_deletes_and_sends_none(api: RunPodRestStub) -> None:
    _deploy(api)
    api.requests.clear()
    code, out = _deploy(api, "--delete", "--dry-run")
    assert code == 0 and api.writes() == []
    assert f"DELETE {api.base_url}/serverless/{_endpoint(api)['id']}" in out
    assert f"DELETE {api.base_url}/templates/{_template(api)['id']}" in out


def test_every_flag_and_make_target_in_the_deploy_doc_exists() -> None:
    """docs/DEPLOY.md must not drift from the commands it documents."""
    from deploy.worker import build_parser

    doc = (ROOT / "docs" / "DEPLOY.md").read_text() + (ROOT / "README.md").read_text()
    first_cells = re.findall(r"^\| (`--[^|]+)\|", doc, re.M)  # the flag tables' first column
    flags = {flag for cell in first_cells for flag in re.findall(r"--[a-z-]+", cell)}
    assert {"--preset", "--workers-max", "--execution-timeout", "--env"} <= flags
    known = {option for action in build_parser()._actions for option in action.option_strings}
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
