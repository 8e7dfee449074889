"""An upload's summary options: its S3 user metadata over the deployment's defaults.

The dispatcher reads an upload's `x-amz-meta-summary-*` keys with one HEAD of the object version
(never its body; dispatcher/app.py) and `UploadOptions.read` turns them, over the deployment's
settings (`SUMMARY_STYLE`, `SUMMARY_LANGUAGE`, `SUMMARY_PROFILE`, `SUMMARY_MAX_TOKENS`), into the
job's `options`, with where each value came from. A value outside the vocabulary
(contract/options.py, the rules the worker validates with) raises `InvalidOptionsError` naming the
key and the allowed values: the upload ends with error metadata, never with a silent default.

The user's profiles (contract/profiles.py) come from `SUMMARY_PROFILES_URI`, read once per cold
start: `s3://bucket/key` or the JSON document itself. A chosen user profile travels in the job input
as its definition, so the worker never needs a new image for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contract.options import (
    UPLOAD_KEYS,
    OptionValueError,
    check_language,
    check_profile_name,
    check_style,
    parse_max_tokens,
)
from contract.profiles import PROFILES, Profile, ProfileError, parse_document
from dispatcher.errors import InvalidOptionsError, S3Error, SettingsError
from dispatcher.settings import PROFILES_URI, Settings

UPLOAD = "upload metadata"
DEPLOYMENT = "deployment default"
# The upload metadata keys are case-insensitive in S3 (boto3 returns them lower-cased).
_CHECKS: dict[str, Callable[[str], Any]] = {
    "style": check_style,
    "language": check_language,
    "max_tokens": parse_max_tokens,
}


@dataclass(frozen=True)
class JobOptions:
    """The job input's `options`, `option_sources` and the user profile's definition (if chosen)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    profile: Profile | None = None


class UploadOptions:
    def __init__(self, settings: Settings, profiles: Mapping[str, Profile] | None = None) -> None:
        self._user = dict(profiles or {})
        self._known = set(PROFILES) | set(self._user)
        self._defaults: dict[str, Any] = {
            name: value
            for name, value in (
                ("style", settings.summary_style),
                ("language", settings.summary_language),
                ("profile", settings.summary_profile),
                ("max_tokens", settings.max_tokens),
            )
            if value is not None
        }
        default_profile = self._defaults.get("profile")
        if default_profile is not None and default_profile not in self._known:
            raise SettingsError(
                f"SUMMARY_PROFILE {default_profile!r} is not a profile; known: "
                f"{', '.join(sorted(self._known))}"
            )

    @property
    def profile_names(self) -> list[str]:
        return sorted(self._known)

    def read(self, metadata: Mapping[str, str]) -> JobOptions:
        """The options for an upload whose user metadata (HeadObject's `Metadata`) is `metadata`."""
        given = {k.lower(): v for k, v in metadata.items()}
        values, sources = dict(self._defaults), dict.fromkeys(self._defaults, DEPLOYMENT)
        for name, key in UPLOAD_KEYS.items():
            if key not in given:
                continue
            raw = given[key].strip()
            try:
                if name == "profile":
                    value: Any = check_profile_name(raw, self._known)
                else:
                    value = _CHECKS[name](raw)
            except OptionValueError as exc:
                raise InvalidOptionsError(key, f"x-amz-meta-{key}: {exc}") from None
            values[name], sources[name] = value, UPLOAD
        return JobOptions(values, sources, self._user.get(values.get("profile", "")))


def load_profiles(uri: str | None, get_object: Callable[[str, str], bytes]) -> dict[str, Profile]:
    """The user's profiles from `SUMMARY_PROFILES_URI` (`s3://bucket/key` or the document inline);
    a document that cannot be used stops the cold start with what is wrong."""
    if not uri:
        return {}
    text = uri.strip()
    try:
        if text.startswith("s3://"):
            bucket, _, key = text[len("s3://") :].partition("/")
            if not bucket or not key:
                raise ProfileError("an S3 URI must be s3://bucket/key")
            return parse_document(get_object(bucket, key))
        return parse_document(text)
    except (ProfileError, S3Error) as exc:  # a broken document, or one that cannot be read
        raise SettingsError(f"{PROFILES_URI}: {exc}") from None
