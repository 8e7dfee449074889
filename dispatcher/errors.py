"""The dispatcher's exception tree.

DispatchError
├── SettingsError          a required setting is missing or malformed (names it)
├── PresignError           botocore could not presign (no credentials, bad region)
├── OutputKeyError         the summary's key would break an S3 limit (retrying cannot help)
├── S3Error                the function's own HEAD, GET or PUT failed (access, network)
├── InvalidOptionsError    an upload's summary options are outside the vocabulary (names the key)
└── RunPodError            /run did not accept the job
    ├── RunPodAuthError    401/403: the API key is wrong; retrying cannot help
    ├── RunPodNotFoundError  404 from /status or /cancel: RunPod has no such job (expired, deleted)
    ├── RunPodUnavailableError  429/5xx/network after all retries; the event is retried later
    ├── RunPodUnconfirmedError  /run sent but its answer never came: the job may exist (not retried)
    └── RunPodJobEndedError  /run answered with a job already FAILED, CANCELLED or TIMED_OUT
└── LedgerError            the job ledger (DynamoDB) could not be read or written
"""

from __future__ import annotations

from typing import Literal


class DispatchError(Exception):
    pass


class SettingsError(DispatchError):
    pass


class PresignError(DispatchError):
    pass


class OutputKeyError(DispatchError):
    pass


class S3Error(DispatchError):
    pass


class InvalidOptionsError(DispatchError):
    """An upload's `x-amz-meta-summary-*` value that no job may carry: the upload ends with error
    metadata (code `invalid_options`); retrying cannot help."""

    code: Literal["invalid_options"] = "invalid_options"  # contract.metadata.DispatcherCode

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class RunPodError(DispatchError):
    pass


class RunPodAuthError(RunPodError):
    pass


class RunPodNotFoundError(RunPodError):
    pass


class RunPodUnavailableError(RunPodError):
    pass


class RunPodUnconfirmedError(RunPodError):
    pass


class RunPodJobEndedError(RunPodError):
    """`/run` created a job that had already ended (`.job_id`, `.status`): nothing will run it."""

    def __init__(self, message: str, job_id: str, status: str) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status


class LedgerError(DispatchError):
    pass
