"""The RunPod API key from Secrets Manager / SSM SecureString, against moto's server over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devstack import cloud
from devstack.runpod_emulator import RunPodEmulator
from dispatcher import secrets
from dispatcher.app import Dispatcher
from dispatcher.errors import SettingsError
from tests.support.paths import load_event

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _fresh_cold_start() -> Iterator[None]:
    secrets.forget()
    yield
    secrets.forget()


@pytest.fixture
def factory(moto_endpoint: str) -> secrets.ClientFactory:
    def make(service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.fixture
def secret(factory: secrets.ClientFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh secret (named after the test) holding a key; its ARN."""
    client = factory("secretsmanager", REGION)
    name = "runpod-key-" + request.node.name[-40:]
    arn = str(client.create_secret(Name=name, SecretString="rp_key_from_secrets_manager")["ARN"])
    yield arn
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def _put(factory: secrets.ClientFactory, arn: str, value: str) -> None:
    factory("secretsmanager", REGION).put_secret_value(SecretId=arn, SecretString=value)


def test_key_is_read_from_a_secrets_manager_secret(factory: secrets.ClientFactory, secret: str) -> None:
    env = {"AWS_REGION": REGION, secrets.SECRET_ARN: secret}
    assert secrets.api_key(env, factory) == "rp_key_from_secrets_manager"


def test_key_value_form_of_the_secret_is_accepted(factory: secrets.ClientFactory, secret: str) -> None:
    _put(factory, secret, json.dumps({"RUNPOD_API_KEY": " rp_json_key \n", "other": "x"}))
    assert secrets.api_key({"AWS_REGION": REGION, secrets.SECRET_ARN: secret}, factory) == "rp_json_key"


def test_key_is_read_from_an_ssm_securestring(factory: secrets.ClientFactory) -> None:
    ssm = factory("ssm", REGION)
    ssm.put_parameter(Name="/transcripts/runpod-key", Value="rp_key_from_ssm", Type="SecureString")
    try:
        env = {"AWS_REGION": REGION, secrets.PARAMETER: "/transcripts/runpod-key"}
        assert secrets.api_key(env, factory) == "rp_key_from_ssm"
    finally:
        ssm.delete_parameter(Name="/transcripts/runpod-key")


def test_key_is_read_once_per_cold_start(factory: secrets.ClientFactory, secret: str) -> None:
    env = {"AWS_REGION": REGION, secrets.SECRET_ARN: secret}
    assert secrets.api_key(env, factory) == "rp_key_from_secrets_manager"
    _put(factory, secret, "rp_rotated_key")
    # A warm environment keeps the key it read: no AWS call per event.
    assert secrets.api_key(env, factory) == "rp_key_from_secrets_manager"
    secrets.forget()  # what a new execution environment starts with
    assert secrets.api_key(env, factory) == "rp_rotated_key"


def test_no_secret_configured_leaves_the_plain_env_var_in_charge() -> None:
    assert secrets.api_key({"AWS_REGION": REGION, "RUNPOD_API_KEY": "plain"}) is None
    assert secrets.api_key({secrets.SECRET_ARN: "  ", secrets.PARAMETER: ""}) is None


def test_missing_secret_fails_naming_the_source_not_a_value(factory: secrets.ClientFactory) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(SettingsError, match=r"RUNPOD_API_KEY_SECRET_ARN=arn:aws:secretsmanager.*nope"):
        secrets.api_key({"AWS_REGION": REGION, secrets.SECRET_ARN: arn}, factory)


def test_missing_parameter_fails_naming_it(factory: secrets.ClientFactory) -> None:
    with pytest.raises(SettingsError, match="RUNPOD_API_KEY_PARAMETER=/no/such/parameter"):
        secrets.api_key({"AWS_REGION": REGION, secrets.PARAMETER: "/no/such/parameter"}, factory)


@pytest.mark.parametrize("value", ["   ", json.dumps({"api_key": "x"}), "{not json"])
def test_unusable_secret_values_are_rejected(factory: secrets.ClientFactory, secret: str, value: str) -> None:
    _put(factory, secret, value)
    with pytest.raises(SettingsError, match="the secret"):
        secrets.api_key({"AWS_REGION": REGION, secrets.SECRET_ARN: secret}, factory)


def test_dispatcher_submits_with_the_key_from_secrets_manager(
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    factory: secrets.ClientFactory,
    secret: str,
    emulator: RunPodEmulator,
) -> None:
    # The production path: no client injected, boto3's default chain, endpoint from the env.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    _put(factory, secret, emulator.api_key)
    env = cloud.dispatcher_env(
        emulator.endpoint_url, None, moto_endpoint, RUNPOD_API_KEY_SECRET_ARN=secret, RUNPOD_ATTEMPTS="1"
    )
    dispatcher = Dispatcher.from_env(env)
    result = dispatcher.run(load_event("s3_put_encoded_key.json"))
    assert len(result["dispatched"]) == 1
    assert emulator.run_requests == 1  # the emulator answers 401 to any other key
