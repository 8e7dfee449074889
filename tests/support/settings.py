"""Settings shared by the worker's and the dispatcher's settings tests."""

from __future__ import annotations

# The dispatcher's required settings, for tests of `Settings.from_env`.
DISPATCHER_BASE = {
    "RUNPOD_API_KEY": "k",
    "RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/ep",
    "AWS_REGION": "us-east-1",
}
# Every malformed shape of a number a setting has been given (round three, issue 13):
# `int()`/`float()` took `1_0` and Arabic-Indic digits; huge values had no ceiling.
MALFORMED = ["nan", "inf", "-inf", "-1", "1e400", "abc", "1_0", "\u0665", "0x10", "5 5", "9" * 30]
