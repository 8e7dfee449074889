"""Load the evaluation meetings: `<ID>.txt` transcripts next to `<ID>.summary.txt` human references.

The default folder is `../shared/eval/qmsum-val` relative to the repository root (the QMSum
validation meetings are not redistributed in this repo); `EVAL_DATA_DIR` or `--data` points
elsewhere. A missing folder is a `DataMissingError` whose message says exactly what to put where,
so a fresh clone fails with instructions rather than a traceback. Domains come from the folder's
`manifest.jsonl` when it has one, else from QMSum's file-name prefixes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT.parent / "shared" / "eval" / "qmsum-val"
DATA_ENV = "EVAL_DATA_DIR"

# QMSum's meeting ids: ICSI research meetings (Bed/Bmr/Bro), AMI product-design meetings
# (ES/IS/TS), parliamentary committees (covid_*/education_*).
_PREFIX_DOMAINS = (
    (("Bed", "Bmr", "Bro", "Bns", "Bsr", "Btr"), "academic(ICSI)"),
    (("ES", "IS", "TS"), "product(AMI)"),
    (("covid_", "education_"), "committee"),
)


class DataMissingError(Exception):
    """The evaluation folder or its files are absent; the message says where to put them."""


@dataclass(frozen=True)
class Meeting:
    id: str
    domain: str
    transcript: str
    reference: str

    @property
    def reference_words(self) -> int:
        return len(self.reference.split())


def domain_of(meeting_id: str) -> str:
    for prefixes, domain in _PREFIX_DOMAINS:
        if meeting_id.startswith(prefixes):
            return domain
    return "other"


def missing_message(folder: Path) -> str:
    return (
        f"evaluation data not found in {folder}\n"
        "Put one transcript per meeting there as <ID>.txt (one utterance a line, 'Speaker: text')\n"
        "and its human reference summary as <ID>.summary.txt, e.g.\n"
        f"  {folder}/ES2006a.txt\n"
        f"  {folder}/ES2006a.summary.txt\n"
        '(optionally a manifest.jsonl with {"id": ..., "domain": ...} rows), or point the harness\n'
        f"at another folder with `make eval EVAL_DATA=DIR`, --data DIR or {DATA_ENV}=DIR. The numbers in\n"
        "docs/EVAL.md were measured on the 35 QMSum validation meetings\n"
        "(github.com/Yale-LILY/QMSum, MIT licence)."
    )


def load(folder: Path, limit: int | None = None) -> list[Meeting]:
    if not folder.is_dir():
        raise DataMissingError(missing_message(folder))
    domains: dict[str, str] = {}
    manifest = folder / "manifest.jsonl"
    if manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                domains[str(row["id"])] = str(row.get("domain") or domain_of(str(row["id"])))
    meetings = []
    for reference_path in sorted(folder.glob("*.summary.txt")):
        meeting_id = reference_path.name.removesuffix(".summary.txt")
        transcript_path = folder / f"{meeting_id}.txt"
        if not transcript_path.is_file():
            continue
        meetings.append(
            Meeting(
                id=meeting_id,
                domain=domains.get(meeting_id) or domain_of(meeting_id),
                transcript=transcript_path.read_text(encoding="utf-8"),
                reference=reference_path.read_text(encoding="utf-8").strip(),
            )
        )
    if not meetings:
        raise DataMissingError(missing_message(folder))
    return meetings[:limit] if limit else meetings
