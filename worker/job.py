"""The job contract (version 1): the strict input model and the small result.

The dispatcher builds this input with the stdlib only; a contract test proves that what it sends
validates here. `extra="forbid"` everywhere, so a typo in a field name fails before any GPU work,
and the error names the field. The result never carries the summary in pull mode: RunPod keeps
`/run` results for 30 minutes and rejects large outputs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from contract.options import OptionSource
from contract.profiles import PROFILES, Profile, ProfileError, profile_from_dict
from worker.engines import SummaryOptions
from worker.errors import JobInputError

SUMMARY_CONTENT_TYPE = "text/plain; charset=utf-8"
METADATA_CONTENT_TYPE = "application/json"

# RunPod caps a /run body at 10 MB; inline text is for small inputs and local runs.
MAX_INLINE_TEXT_CHARS = 8_000_000
MAX_URL_CHARS = 8_192
OptionName = Literal["style", "language", "profile", "max_tokens"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Source(_Strict):
    """Where the transcript came from: for metadata and logs only, never used for access."""

    bucket: str = Field(min_length=1, max_length=255)
    key: str = Field(min_length=1, max_length=1024)
    version_id: str | None = Field(default=None, max_length=1024)
    etag: str | None = Field(default=None, max_length=256)
    size: StrictInt | None = Field(default=None, ge=0)


class JobInput(_Strict):
    version: Literal[1] = 1
    transcript_url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_CHARS)
    text: str | None = Field(default=None, max_length=MAX_INLINE_TEXT_CHARS)
    summary_put_url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_CHARS)
    metadata_put_url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_CHARS)
    # worker/freshness.py: HEAD of the source key's current version, GET of the existing metadata.
    current_source_url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_CHARS)
    metadata_get_url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_CHARS)
    source: Source | None = None
    options: SummaryOptions = SummaryOptions()
    # Where each option's value came from (the dispatcher: the upload's metadata or its own
    # defaults); an option set here but not named is the job input's own.
    option_sources: dict[OptionName, OptionSource] | None = None
    # The definition of `options.profile` when it is the deployment's own (contract/profiles.py).
    profile: dict[str, Any] | None = None
    # Set by the reconciler on a retry (dispatcher/reconciler.py): which run of this upload this is,
    # and why the previous one ended. After `engine_unavailable` the job runs alone on the engine
    # (worker/isolation.py), so a second death is this transcript's doing, not a neighbour's.
    attempt: StrictInt | None = Field(default=None, ge=1, le=1000)
    previous_error: str | None = Field(default=None, max_length=64, pattern=r"^[a-z][a-z_]*$")
    # A re-summarise (`client backfill --force`): an `ok` summary of this version is no reason to
    # stop (worker/freshness.py), the job writes over it.
    resummarize: bool = False

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_the_integer_1(cls, value: Any) -> Any:
        # JSON `true` and `1.0` == 1 in Python, and Literal[1] would take them.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("Input should be 1 (an integer, not a boolean, float or string)")
        return value

    @model_validator(mode="after")
    def _exactly_one_transcript(self) -> JobInput:
        if (self.transcript_url is None) == (self.text is None):
            raise ValueError("give exactly one of transcript_url (pull mode) or text (push mode)")
        return self

    @model_validator(mode="after")
    def _a_known_profile(self) -> JobInput:
        self.summary_profile()  # raises naming the profile or the definition's field
        return self

    def summary_profile(self) -> Profile:
        """The profile the summary follows: the definition sent with the job, else a built-in."""
        name = self.options.profile
        if self.profile is not None:
            try:
                defined = profile_from_dict(self.profile)
            except ProfileError as exc:
                raise ValueError(str(exc)) from None
            if defined.name != name:
                raise ValueError(f"profile.name {defined.name!r} is not options.profile {name!r}")
            return defined
        if name not in PROFILES:
            raise ValueError(
                f"options.profile {name!r} is not a built-in profile ({', '.join(PROFILES)}) and the "
                "job input carries no definition of it"
            )
        return PROFILES[name]

    @property
    def pull_mode(self) -> bool:
        return self.summary_put_url is not None

    @classmethod
    def parse(cls, raw: Any) -> JobInput:
        """Validate a RunPod `input`; the error message names every offending field."""
        if not isinstance(raw, dict):
            raise JobInputError(f"invalid job input: expected a JSON object, got {type(raw).__name__}")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise JobInputError("invalid job input: " + _describe(exc)) from exc


# An input with 100,000 unknown fields made a 4.6 MB error (in the metadata, the logs and RunPod's
# output): the first few problems name the fields, a count says how many more there are.
_MAX_PROBLEMS = 10
_MAX_FIELD_CHARS = 100


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for err in errors[:_MAX_PROBLEMS]:
        where = ".".join(str(p) for p in err["loc"]) or "input"
        if len(where) > _MAX_FIELD_CHARS:
            where = where[:_MAX_FIELD_CHARS] + "…"
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    if len(errors) > _MAX_PROBLEMS:
        parts.append(f"and {len(errors) - _MAX_PROBLEMS} more problems")
    return "; ".join(parts)
