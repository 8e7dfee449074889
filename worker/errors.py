"""The worker's exception tree. Every error the worker raises on purpose is one of these.

    WorkerError
    ├── JobInputError            the job input failed validation (names the field)
    ├── TranscriptError          the transcript itself is unusable (empty, binary, too large)
    ├── TransferError            a presigned GET/PUT failed
    │   ├── UrlNotAllowedError   the URL is outside the allow-list (scheme, host, address)
    │   ├── DownloadError        the GET failed after retries (status, timeout, truncated body)
    │   └── UploadError          the PUT failed after retries
    ├── EngineError              the model server answered badly to one request
    │   └── EngineUnavailableError  the model server is gone: the worker must stop taking jobs
    ├── ConfigError              a setting is missing or malformed (raised at start-up only)
    └── JobStoppedError          the platform stopped the job (cancel, policy.executionTimeout)

Vendor errors (aiohttp, pydantic) are translated once, in the module that calls the vendor, with
`raise ... from exc`. `worker.runner` maps these to RunPod's `{"error": "..."}` and to the metadata
file; nothing matches on error text.
"""

from __future__ import annotations

from contract.metadata import WorkerCode


class WorkerError(Exception):
    """Base of every deliberate worker error. `code` is a stable machine-readable name, one of the
    metadata document's error codes (contract/metadata.py)."""

    code: WorkerCode = "worker_error"


class JobInputError(WorkerError):
    code = "invalid_input"


class TranscriptError(WorkerError):
    code = "invalid_transcript"


class TransferError(WorkerError):
    code: WorkerCode = "transfer_failed"


class UrlNotAllowedError(TransferError):
    code = "url_not_allowed"


class DownloadError(TransferError):
    code = "download_failed"


class UploadError(TransferError):
    code = "upload_failed"


class EngineError(WorkerError):
    code: WorkerCode = "engine_failed"


class EngineUnavailableError(EngineError):
    code = "engine_unavailable"


class ConfigError(WorkerError):
    code = "config_error"


class JobStoppedError(WorkerError):
    """Never raised: names the metadata of a job whose task RunPod's SDK cancelled."""

    code = "job_stopped"
