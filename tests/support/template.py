"""template.yaml read as cfn-lint reads it: plain dicts, intrinsics as {"Ref": …}."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.decode import decode_str

from tests.support.paths import ROOT

TEMPLATE = ROOT / "template.yaml"


def template() -> dict[str, Any]:
    document, errors = decode_str(TEMPLATE.read_text())
    assert not errors
    return json.loads(json.dumps(document))  # type: ignore[no-any-return]
