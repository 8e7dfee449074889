"""The summary options' vocabulary, shared by the dispatcher (which reads them from an upload's S3
user metadata and its own settings) and the worker (whose pydantic `SummaryOptions` validates the
job input with the same rules): styles, the language rule, the max-tokens bounds, profile names,
the upload metadata keys and where a value came from.

Stdlib only, and every check here is the one both sides run, so the dispatcher never sends a job the
worker would refuse (tests/test_upload_options.py walks both with the same values). A check raises
`OptionValueError` naming what is allowed; the caller adds which key or setting it read.
"""

import re
import typing
from typing import Literal

STYLES: tuple[str, ...] = ("brief", "standard", "detailed")
DEFAULT_STYLE = "standard"
DEFAULT_PROFILE = "meeting"
# Far above any model's context: larger values are almost certainly a mistake in the caller.
MAX_TOKENS_LIMIT = 1_000_000
# The smallest grant that holds a summary: every engine's frame and one whole sentence, in every
# localized language. The extractive summary's label and four headings alone take 26-67 of its
# tokens (Japanese most); at 64 the Japanese summary lost its last heading and the Korean one every
# whole sentence, and 1-12 tokens gave a fragment of the label with `status: ok`.
MIN_MAX_TOKENS = 96
LANGUAGE_MAX_CHARS = 32

# The upload's S3 user metadata (`x-amz-meta-<key>`; boto3 `Metadata={"summary-style": "brief"}`).
UPLOAD_KEYS: dict[str, str] = {
    "style": "summary-style",
    "language": "summary-language",
    "profile": "summary-profile",
    "max_tokens": "summary-max-tokens",
}
# Where an option's value came from (the metadata's `options.sources`).
OptionSource = Literal["upload metadata", "deployment default", "job input", "profile", "built-in default"]
OPTION_SOURCES: tuple[str, ...] = typing.get_args(OptionSource)

# A language name or code ("de", "pt-BR", "German", "Brazilian Portuguese", "Español"), or a real
# locale tag: BCP 47 (`es-419`, `zh-Hant-TW`, `de-CH-1996`) or POSIX (`zh_CN`, `en_US.UTF-8`). Only
# its language reaches the model's instructions; no newlines, headings or other punctuation pass.
_LANGUAGE = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+)*")
_LOCALE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})+(?:\.[A-Za-z0-9-]{1,16})?", re.ASCII)
LANGUAGE_RULE = (
    "a language name or code (letters, single spaces or hyphens) or a locale tag "
    f'(e.g. "de", "German", "pt-BR", "es-419", "zh_CN"), 2 to {LANGUAGE_MAX_CHARS} characters'
)
# A profile's name: lower-case ASCII letters, digits, `-` and `_` (it is an S3 metadata value).
_PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}", re.ASCII)
PROFILE_NAME_RULE = "lower-case letters, digits, '-' or '_', at most 40 characters"
_DIGITS = re.compile(r"[0-9]{1,20}", re.ASCII)


class OptionValueError(ValueError):
    """A value outside an option's vocabulary; the message says what is allowed."""


def check_style(value: str) -> str:
    if value not in STYLES:
        raise OptionValueError(f"must be one of {', '.join(STYLES)}, got {value[:40]!r}")
    return value


def check_language(value: str) -> str:
    if not 2 <= len(value) <= LANGUAGE_MAX_CHARS or not (
        _LANGUAGE.fullmatch(value) or _LOCALE_TAG.fullmatch(value)
    ):
        raise OptionValueError(f"must be {LANGUAGE_RULE}, got {value[:40]!r}")
    return value


def check_max_tokens(value: int) -> int:
    if value < MIN_MAX_TOKENS:
        raise OptionValueError(
            f"must be at least {MIN_MAX_TOKENS}: a smaller grant cannot hold a summary's headings "
            f"and one whole sentence (allowed: {MIN_MAX_TOKENS} to {MAX_TOKENS_LIMIT}), got {value}"
        )
    if value > MAX_TOKENS_LIMIT:
        raise OptionValueError(
            f"must be at most {MAX_TOKENS_LIMIT} (allowed: {MIN_MAX_TOKENS} to {MAX_TOKENS_LIMIT}), "
            f"got {value}"
        )
    return value


def parse_max_tokens(text: str) -> int:
    """A decimal integer as text (S3 metadata and settings are strings)."""
    if not _DIGITS.fullmatch(text.strip()):
        raise OptionValueError(
            f"must be an integer from {MIN_MAX_TOKENS} to {MAX_TOKENS_LIMIT}, got {text[:40]!r}"
        )
    return check_max_tokens(int(text))


def check_profile_name(value: str, known: typing.Collection[str] | None = None) -> str:
    """A well-formed name; with `known`, one of them."""
    if not _PROFILE_NAME.fullmatch(value):
        raise OptionValueError(f"must be a profile name ({PROFILE_NAME_RULE}), got {value[:40]!r}")
    if known is not None and value not in known:
        raise OptionValueError(f"must be one of the profiles {', '.join(sorted(known))}, got {value!r}")
    return value
