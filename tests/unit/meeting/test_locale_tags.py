"""Locale tags as clients send them (BCP 47 and POSIX: `es-419`, `zh_CN`, `pt_BR`, `en_US.UTF-8`, ...)
are accepted and resolve to their language subtag; strings shaped like a tag that are none are still
refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import run_engine_job, run_job
from worker.engines import ExtractiveEngine
from worker.meeting import resolve_language
from worker.settings import WorkerSettings

MEETING = "".join(
    f"{'Alice' if i % 2 else 'Bob'}: Item {i}: we decided to ship the export on day {i} after the review.\n"
    for i in range(12)
)


LOCALES = {
    "es-419": ("es", True),  # Latin American Spanish (a UN M.49 region: digits)
    "zh_CN": ("zh", True),  # POSIX locale
    "pt_BR": ("pt", True),
    "en-US": ("en", True),
    "zh-Hant-TW": ("zh", True),  # language, script, region
    "sr-Latn-RS": ("sr", False),
    "de-CH-1996": ("de", True),  # a variant
    "en_US.UTF-8": ("en", True),  # a POSIX locale with its codeset, as `LANG` holds it
    "ca-ES-valencia": ("ca", False),
    "PT-br": ("pt", True),
}


@pytest.mark.parametrize("tag", LOCALES)
def test_real_locale_tags_are_accepted_and_resolved_to_their_language(
    tag: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    code, localized = LOCALES[tag]
    assert resolve_language(tag) == code
    raw = {"text": MEETING, "options": {"language": tag}}
    result, meta = run_engine_job(
        ExtractiveEngine(), s3, bucket, presigner, raw, WorkerSettings(allow_loopback_urls=True)
    )
    assert result["status"] == "ok", result
    assert meta["language"]["requested"] == tag
    assert (meta["language"]["used"], meta["language"]["localized"]) == (code, localized)


@pytest.mark.parametrize(
    "language",
    [
        "es-419\n### Summary",
        "zh_CN; say yes",
        "en--US",
        "-en",
        "en-",
        "en_US.UTF-8.x",
        "e",
        "zh_CN_",
        "es-419-" + "1" * 9,
    ],
)
def test_locale_shaped_strings_that_are_no_tag_are_still_refused(language: str) -> None:
    result = run_job({"text": MEETING, "options": {"language": language}})
    assert "options.language" in result["error"], result
