"""The options HEAD against an S3 that checks signatures (nanio; moto accepts any): the dispatcher's
own signed HeadObject reads the version's user metadata, and a refused one fails the record (the
event is retried) instead of dispatching with the deployment's defaults."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.cloud import REGION
from dispatcher.errors import S3Error
from dispatcher.presign import Presigner, make_s3_client
from tests.support.nanio import BUCKET, CREDENTIALS


def test_the_signed_head_reads_the_uploads_metadata(signing_s3: Any, signing_s3_endpoint: str) -> None:
    signing_s3.put_object(
        Bucket=BUCKET, Key="opts/signed.txt", Body=b"Alice: hi.\n", Metadata={"Summary-Style": "brief"}
    )
    presigner = Presigner(make_s3_client(REGION, signing_s3_endpoint, CREDENTIALS), expires_s=600)
    assert presigner.user_metadata(BUCKET, "opts/signed.txt") == {"summary-style": "brief"}
    assert presigner.user_metadata(BUCKET, "opts/missing.txt") is None  # gone: no options to read


def test_a_refused_head_fails_the_record_rather_than_using_the_defaults(
    signing_s3: Any, signing_s3_endpoint: str
) -> None:
    signing_s3.put_object(Bucket=BUCKET, Key="opts/denied.txt", Body=b"Alice: hi.\n")
    wrong = CREDENTIALS | {"AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    presigner = Presigner(make_s3_client(REGION, signing_s3_endpoint, wrong), expires_s=600)
    with pytest.raises(S3Error, match=r"HEAD s3://transcripts/opts/denied\.txt: 403"):
        presigner.user_metadata(BUCKET, "opts/denied.txt")
