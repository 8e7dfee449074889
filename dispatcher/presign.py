"""SigV4 presigned GET/PUT URLs on an injected S3 client, and the one builder of boto3 clients
(`make_client`: S3, DynamoDB, EventBridge): the only module that knows botocore.

boto3 1.44 presigns with SigV2 and the global host unless told otherwise, so the default client is
built with `signature_version="s3v4"`, virtual-hosted addressing and the bucket's region (the
Lambda's region: S3 notifications only reach functions in the bucket's own region). A PUT signed
with a ContentType must be sent with exactly that header; the worker uses the same constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUMMARY_CONTENT_TYPE = "text/plain; charset=utf-8"
METADATA_CONTENT_TYPE = "application/json"


def make_s3_client(region: str, endpoint_url: str | None = None, env: Mapping[str, str] | None = None) -> Any:
    """A SigV4, virtual-hosted S3 client (see `make_client` for credentials)."""
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "virtual"},
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return make_client("s3", region, endpoint_url, env, config)


def make_client(
    service: str,
    region: str,
    endpoint_url: str | None = None,
    env: Mapping[str, str] | None = None,
    config: Any = None,
) -> Any:
    """A boto3 client. Credentials come from `env` when it names them (local cloud, tests), else
    from botocore's default chain (the Lambda role); `endpoint_url` is moto's locally."""
    import boto3

    env = env or {}
    credentials = {
        "aws_access_key_id": env.get("AWS_ACCESS_KEY_ID"),
        "aws_secret_access_key": env.get("AWS_SECRET_ACCESS_KEY"),
        "aws_session_token": env.get("AWS_SESSION_TOKEN"),
    }
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=config,
        **{k: v for k, v in credentials.items() if v},
    )


class Presigner:
    def __init__(self, s3_client: Any, expires_s: int) -> None:
        self._s3 = s3_client
        self._expires_s = expires_s

    def get(self, bucket: str, key: str, version_id: str | None = None) -> str:
        params = {"Bucket": bucket, "Key": key}
        if version_id:
            # Pin the exact upload: a later overwrite of the key gets its own job.
            params["VersionId"] = version_id
        return self._sign("get_object", params)

    def head(self, bucket: str, key: str) -> str:
        """HEAD of the key's *current* version (no VersionId): the worker's freshness check."""
        return self._sign("head_object", {"Bucket": bucket, "Key": key})

    def exists(self, bucket: str, key: str, version_id: str | None = None) -> bool | None:
        """Whether the object (version) exists: a HEAD with the function's own role. None when S3
        would not say (no permission, a network error)."""
        from botocore.exceptions import BotoCoreError, ClientError

        params = {"Bucket": bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})
        try:
            self._s3.head_object(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return False if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound") else None
        except BotoCoreError:
            return None
        return True

    def user_metadata(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, str] | None:
        """The object version's S3 user metadata (`x-amz-meta-*`, keys lower-cased): one HEAD with
        the function's own role, never the body. None when the version no longer exists."""
        from botocore.exceptions import BotoCoreError, ClientError

        from dispatcher.errors import S3Error

        params = {"Bucket": bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})
        try:
            head = self._s3.head_object(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound"):
                return None
            raise S3Error(f"HEAD s3://{bucket}/{key}: {code or exc}") from exc
        except BotoCoreError as exc:
            raise S3Error(f"HEAD s3://{bucket}/{key}: {exc}") from exc
        return {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}

    def write(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """PUT an object with the function's own role (the error metadata the dispatcher writes)."""
        from botocore.exceptions import BotoCoreError, ClientError

        from dispatcher.errors import S3Error

        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise S3Error(f"PUT s3://{bucket}/{key}: {exc}") from exc

    def read(self, bucket: str, key: str) -> bytes:
        """GET a small object with the function's own role (the user's profiles document)."""
        from botocore.exceptions import BotoCoreError, ClientError

        from dispatcher.errors import S3Error

        try:
            body: bytes = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read(1_000_001)
        except (BotoCoreError, ClientError) as exc:
            raise S3Error(f"GET s3://{bucket}/{key}: {exc}") from exc
        return body

    def put(self, bucket: str, key: str, content_type: str) -> str:
        return self._sign("put_object", {"Bucket": bucket, "Key": key, "ContentType": content_type})

    def _sign(self, operation: str, params: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        from dispatcher.errors import PresignError

        try:
            url: str = self._s3.generate_presigned_url(operation, Params=params, ExpiresIn=self._expires_s)
        except (BotoCoreError, ClientError) as exc:
            raise PresignError(
                f"cannot presign {operation} for s3://{params['Bucket']}/{params['Key']}: {exc}"
            ) from exc
        return url
