"""The job contract, version 1: what the dispatcher sends RunPod for one uploaded object.

`build_job_input` is the RunPod `input` (validated on the other side by `worker.job.JobInput`;
the fields are in README "The job contract") and `job_policy` its `policy`. Both are pure over
the settings, the upload (dispatcher/upload.py: its version and output keys) and a presigner, so
the Lambda, the contract test and anything else that needs a job build it one way. Nothing here
talks to RunPod or reads the transcript.
"""

from __future__ import annotations

from typing import Any

from dispatcher.options import JobOptions, UploadOptions
from dispatcher.presign import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE, Presigner
from dispatcher.settings import Settings
from dispatcher.upload import Upload

JOB_INPUT_VERSION = 1


def build_job_input(
    upload: Upload,
    presigner: Presigner,
    settings: Settings,
    options: JobOptions | None = None,
    *,
    attempt: int | None = None,
    previous_error: str | None = None,
) -> dict[str, Any]:
    """The RunPod `input` for `upload`: presigned URLs to pull the transcript and put both outputs,
    and its options (dispatcher/options.py) with where each came from; without `options`, the
    deployment's defaults.
    A retry by the reconciler also says which run it is and why the previous one ended (after
    `engine_unavailable` the worker runs the job alone on its engine)."""
    ref, out_bucket = upload.ref, upload.output_bucket
    source: dict[str, Any] = {"bucket": ref.bucket, "key": ref.key}
    for name in ("version_id", "etag", "size"):
        value = getattr(ref, name)
        if value is not None:
            source[name] = value
    job: dict[str, Any] = {
        "version": JOB_INPUT_VERSION,
        "transcript_url": presigner.get(ref.bucket, ref.key, ref.version_id),
        "summary_put_url": presigner.put(out_bucket, upload.summary_key, SUMMARY_CONTENT_TYPE),
        "metadata_put_url": presigner.put(out_bucket, upload.metadata_key, METADATA_CONTENT_TYPE),
        # The newest version wins and no version is summarised twice (worker/freshness.py): the
        # worker checks the key's current version and the existing metadata before any model work.
        "current_source_url": presigner.head(ref.bucket, ref.key),
        "metadata_get_url": presigner.get(out_bucket, upload.metadata_key),
        "source": source,
    }
    if options is None:
        options = UploadOptions(settings).read({})
    if options.values:
        job["options"] = dict(options.values)
        job["option_sources"] = dict(options.sources)
    if options.profile is not None:
        job["profile"] = options.profile.as_dict()
    if upload.resummarize is not None:  # write over an `ok` summary of this version (a new model)
        job["resummarize"] = True
    if attempt is not None:
        job["attempt"] = attempt
    if previous_error is not None:
        job["previous_error"] = previous_error
    return job


def job_policy(settings: Settings) -> dict[str, int]:
    """The RunPod `policy` of every job."""
    # RunPod takes milliseconds; the URLs outlive ttl + executionTimeout (Settings checks).
    return {
        "executionTimeout": settings.job_execution_timeout_s * 1000,
        "ttl": settings.job_ttl_s * 1000,
    }
