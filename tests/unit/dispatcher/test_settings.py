"""The dispatcher's settings: every numeric setting refuses malformed values with its name, takes
padding, and has a ceiling; a RunPod endpoint URL that would swallow or mangle the paths is refused.
"""

from __future__ import annotations

import pytest

from dispatcher.errors import SettingsError
from dispatcher.settings import Settings
from tests.support.settings import DISPATCHER_BASE, MALFORMED

DISPATCHER_INTEGERS = [
    "JOB_TTL_S",
    "JOB_EXECUTION_TIMEOUT_S",
    "URL_EXPIRES_S",
    "SUMMARY_MAX_TOKENS",
    "RUNPOD_TIMEOUT_S",
    "RUNPOD_ATTEMPTS",
    "DISPATCH_CONCURRENCY",
    "JOB_MAX_ATTEMPTS",
    "RECONCILE_GRACE_S",
]


@pytest.mark.parametrize("value", [*MALFORMED, "5.0"])
@pytest.mark.parametrize("name", DISPATCHER_INTEGERS)
def test_every_numeric_dispatcher_setting_refuses_malformed_values_with_its_name(
    name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(DISPATCHER_BASE | {name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RUNPOD_TIMEOUT_S", str(10**12)),  # the socket timeout overflowed time_t at the first /run
        ("SUMMARY_MAX_TOKENS", "2000000"),  # every job would be refused by the worker
        ("RUNPOD_ATTEMPTS", "1000"),
        ("DISPATCH_CONCURRENCY", "100000"),
    ],
)
def test_dispatcher_settings_have_ceilings(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(DISPATCHER_BASE | {name: value})


def test_dispatcher_settings_take_padding_and_empty_means_unset() -> None:
    padded = Settings.from_env(DISPATCHER_BASE | {"RUNPOD_TIMEOUT_S": " 5 ", "DISPATCH_CONCURRENCY": " 4 "})
    assert (padded.runpod_timeout_s, padded.dispatch_concurrency) == (5, 4)
    empty = Settings.from_env(DISPATCHER_BASE | dict.fromkeys(DISPATCHER_INTEGERS, ""))
    assert empty == Settings.from_env(DISPATCHER_BASE)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@api.runpod.ai/v2/ep",
        "https://api.runpod.ai/v2/ep?x=1",
        "https://api.runpod.ai/v2/ep#frag",
        "https://api.runpod.ai/v2/e p",
        "https://evil.com\\@api.runpod.ai/v2/ep",
        "ftp://api.runpod.ai/v2/ep",
        "https://api.runpod.ai/v2/\u00e9p",
    ],
)
def test_runpod_endpoint_url_that_would_swallow_or_mangle_the_paths_is_refused(url: str) -> None:
    """`/run` is appended: after `?x=1` or `#frag` it went into the query or was dropped."""
    with pytest.raises(SettingsError, match="RUNPOD_ENDPOINT_URL"):
        Settings.from_env(DISPATCHER_BASE | {"RUNPOD_ENDPOINT_URL": url})
