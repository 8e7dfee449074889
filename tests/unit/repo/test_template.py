"""The SAM template, checked offline: cfn-lint, `sam validate` (when its venv exists), the
settings it shares with the dispatcher, least privilege, and the package its handler resolves in."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from dispatcher import secrets
from dispatcher import settings as dispatcher_settings
from dispatcher.settings import Settings
from tests.support.paths import ROOT
from tests.support.template import TEMPLATE, template

SAM = ROOT / ".venv-sam" / "bin" / "sam"
needs_sam = pytest.mark.skipif(
    not SAM.exists(), reason="aws-sam-cli venv not built (make check-deploy builds it)"
)


def _function() -> dict[str, Any]:
    return template()["Resources"]["DispatcherFunction"]["Properties"]  # type: ignore[no-any-return]


def _run(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "SAM_CLI_TELEMETRY": "0",
            **env,
        },
    )


def test_cfn_lint_passes() -> None:
    result = _run(str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_sam
def test_sam_validate_lint_passes() -> None:
    result = _run(str(SAM), "validate", "--lint", "--template", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_sam
def test_sam_validate_passes_in_us_east_1() -> None:
    result = _run(str(SAM), "validate", "--template", str(TEMPLATE), AWS_DEFAULT_REGION="us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_parameter_defaults_are_the_dispatchers_defaults() -> None:
    params = template()["Parameters"]
    assert params["OutputPrefix"]["Default"] == Settings.output_prefix
    assert int(params["JobTtlSeconds"]["Default"]) == Settings.job_ttl_s
    assert int(params["JobExecutionTimeoutSeconds"]["Default"]) == Settings.job_execution_timeout_s
    assert params["UrlExpiresSeconds"]["Default"] == ""  # derived: ttl + timeout + margin


def test_function_environment_names_are_settings_the_dispatcher_reads() -> None:
    known = {v for v in vars(dispatcher_settings).values() if isinstance(v, str) and v.isupper()}
    known |= {secrets.SECRET_ARN, secrets.PARAMETER}
    names = set(_function()["Environment"]["Variables"])
    assert names <= known, names - known
    assert "RUNPOD_API_KEY" not in names  # the key comes from Secrets Manager / SSM, never the template


def test_handler_runtime_and_package() -> None:
    function = _function()
    assert function["Handler"] == "dispatcher.app.lambda_handler"
    assert function["Runtime"] in ("python3.12", "python3.13")
    package = re.search(r"^DISPATCHER_PACKAGE := (\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert package and function["CodeUri"].rstrip("/") == package.group(1)


def test_upload_trigger_filters_every_input_suffix_under_the_input_prefix() -> None:
    bucket = template()["Resources"]["TranscriptsBucket"]
    configs = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert len(configs) == len(Settings.input_suffixes)
    for config, suffix in zip(configs, Settings.input_suffixes, strict=True):
        assert config["Event"] == "s3:ObjectCreated:*"
        with_prefix, without = config["Filter"]["S3Key"]["Rules"]["Fn::If"][1:]
        assert with_prefix == [
            {"Name": "prefix", "Value": {"Ref": "InputPrefix"}},
            {"Name": "suffix", "Value": suffix},
        ]
        assert without == [{"Name": "suffix", "Value": suffix}]
    # S3 checks the invoke permission when the notification is saved.
    assert bucket["DependsOn"] == "S3InvokePermission"


def _existing_bucket_pattern(input_prefix: str) -> dict[str, Any]:
    """ExistingBucketRule's EventPattern with the stack's InputPrefix substituted, as deployed."""
    pattern = template()["Resources"]["ExistingBucketRule"]["Properties"]["EventPattern"]
    text = json.dumps(pattern)
    for sub in re.findall(r'\{"Fn::Sub": "([^"]*)"\}', text):
        text = text.replace(
            json.dumps({"Fn::Sub": sub}), json.dumps(sub.replace("${InputPrefix}", input_prefix))
        )
    text = text.replace(json.dumps({"Ref": "InputPrefix"}), json.dumps(input_prefix))
    text = text.replace(json.dumps({"Ref": "BucketName"}), json.dumps("transcripts"))
    return json.loads(text)  # type: ignore[no-any-return]


@pytest.mark.parametrize("input_prefix", ["incoming/", ""])
def test_existing_bucket_rule_matches_the_input_suffixes_under_the_input_prefix_only(
    input_prefix: str,
) -> None:
    """Regression: the rule matched the prefix alone, so every upload under it (a .pdf, a .wav)
    invoked the Lambda. Checked with moto's EventBridge pattern matcher."""
    from moto.events.models import EventPattern

    raw = json.dumps(_existing_bucket_pattern(input_prefix))
    pattern = EventPattern.load(raw)

    def matches(key: str, bucket: str = "transcripts") -> bool:
        detail = {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}}
        event = {"source": "aws.s3", "detail-type": "Object Created", "detail": detail}
        return bool(pattern.matches_event(event))

    for suffix in Settings.input_suffixes:
        assert matches(f"{input_prefix}q3/notes{suffix}")
    assert not matches(f"{input_prefix}q3/recording.wav")
    assert not matches(f"{input_prefix}q3/notes.txt.pdf")
    assert not matches(f"{input_prefix}notes.txt", bucket="another")
    if input_prefix:
        assert not matches("elsewhere/notes.txt")
    keys = template()["Resources"]["ExistingBucketRule"]["Properties"]["EventPattern"]["detail"]["object"]
    assert len(keys["key"]) == len(Settings.input_suffixes)


def _statements() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in _function()["Policies"]:
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        found += policy.get("Statement", [])
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_least_privilege_on_the_bucket() -> None:
    by_sid = {s["Sid"]: s for s in _statements()}
    assert _actions(by_sid["ReadTranscripts"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert by_sid["ReadTranscripts"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${InputPrefix}*"
    }
    assert _actions(by_sid["WriteSummaries"]) == {"s3:PutObject"}
    assert (
        by_sid["WriteSummaries"]["Resource"]["Fn::Sub"][0]
        == "arn:${AWS::Partition}:s3:::${Bucket}/${OutputPrefix}*"
    )
    s3_actions = {a for s in _statements() for a in _actions(s) if a.startswith("s3")}
    assert s3_actions == {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}
    assert not any("*" in a for s in _statements() for a in _actions(s))
    for statement in _statements():
        if any(a.startswith("dynamodb:") for a in _actions(statement)):
            assert statement["Resource"] == {"Fn::GetAtt": ["LedgerTable", "Arn"]}


@needs_sam
def test_the_role_sam_generates_grants_nothing_more(tmp_path: Path) -> None:
    """Translate with SAM's own translator (in its venv) and read the role it will create."""
    script = """
import json, sys
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse
document = yaml_parse(open(sys.argv[1]).read())
document["Resources"]["DispatcherFunction"]["Properties"]["CodeUri"] = "s3://bucket/key.zip"
document["Resources"]["ReconcilerFunction"]["Properties"]["CodeUri"] = "s3://bucket/key.zip"
translator = Translator(managed_policy_map={}, sam_parser=parser.Parser())
out = translator.translate(sam_template=document, parameter_values={})
print(json.dumps(out))
"""
    result = _run(str(SAM.parent / "python"), "-c", script, str(TEMPLATE), AWS_DEFAULT_REGION="us-east-1")
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)["Resources"]
    role = resources["DispatcherFunctionRole"]["Properties"]
    assert role["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    actions: set[str] = set()
    for policy in role["Policies"]:
        policy = policy["Fn::If"][1] if "Fn::If" in policy else policy
        for statement in policy["PolicyDocument"]["Statement"]:
            actions |= _actions(statement)
    assert actions == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter",
        "sqs:SendMessage",  # to the on-failure destination only
        # item-level access to the ledger table only (issue 12)
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    assert resources["DispatcherFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Ref": "ReservedConcurrency"
    }


def test_failed_events_go_to_an_on_failure_destination_after_retries() -> None:
    config = _function()["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FailedEvents", "Arn"]},
    }
    assert _function()["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}


def test_api_key_source_is_exactly_one_of_secrets_manager_or_ssm() -> None:
    document = template()
    assert set(document["Rules"]) == {"ExactlyOneApiKeySource"}
    sids = {s["Sid"]: s for s in _statements()}
    assert sids["ReadRunPodKeySecret"]["Resource"] == {"Ref": "RunPodApiKeySecretArn"}
    assert _actions(sids["ReadRunPodKeyParameter"]) == {"ssm:GetParameter"}


def test_the_ledger_is_the_only_dedupe_and_the_dispatcher_needs_no_layer() -> None:
    # The ledger's claim dedupes deliveries; the Powertools idempotency table and layer are retired.
    resources = template()["Resources"]
    tables = {name for name, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert tables == {"LedgerTable"}
    assert "Layers" not in _function()
    assert _function()["Environment"]["Variables"]["LEDGER_TABLE"] == {"Ref": "LedgerTable"}


def test_dispatcher_package_holds_only_the_dispatcher_and_the_contract_and_its_handler_resolves(
    tmp_path: Path,
) -> None:
    package = tmp_path / "package"
    made = _run("make", "--no-print-directory", "dispatcher-package", f"DISPATCHER_PACKAGE={package}")
    assert made.returncode == 0, made.stderr
    files = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    assert files and all(re.fullmatch(r"(dispatcher|contract)/\w+\.py", f) for f in files), files
    # The zip is the dispatcher package and the metadata contract as they stand: nothing is left out
    # (the client lives in client/).
    shipped = [p for folder in ("dispatcher", "contract") for p in (ROOT / folder).glob("*.py")]
    assert files == sorted(p.relative_to(ROOT).as_posix() for p in shipped)
    assert "dispatcher/app.py" in files
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in files:
            zipped.write(package / name, name)
    assert len(archive.getvalue()) < 100_000  # our code only; boto3 is in the runtime

    # What the Lambda runtime does: import the handler from the package root, call it once.
    probe = f"""
import json, sys
sys.path.insert(0, {str(package)!r})
import dispatcher.app, dispatcher.reconciler, contract.metadata
assert dispatcher.app.__file__.startswith({str(package)!r}), dispatcher.app.__file__
assert contract.metadata.__file__.startswith({str(package)!r}), contract.metadata.__file__
result = dispatcher.app.lambda_handler({{"Event": "s3:TestEvent"}}, None)
heavy = sorted(m for m in ("runpod", "pydantic", "worker") if m in sys.modules)
print(json.dumps({{"result": result, "heavy": heavy}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": os.environ["PATH"],
            "AWS_REGION": "us-east-1",
            "RUNPOD_API_KEY": "k",
            "RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/x",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["heavy"] == []
    assert answer["result"]["dispatched"] == [] and answer["result"]["failed"] == []


def test_dispatcher_can_claim_read_and_forget_ledger_items_and_knows_the_input_prefix() -> None:
    # The dispatcher claims a version before /run, reads the claim a redelivery finds, adds the job
    # id and deletes a claim whose /run was refused (dispatcher/ledger.py).
    by_sid = {s.get("Sid"): s for s in _statements()}
    assert _actions(by_sid["LedgerWrite"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    assert _function()["Environment"]["Variables"]["INPUT_PREFIX"] == {"Ref": "InputPrefix"}
