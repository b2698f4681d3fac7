"""S3 itself: the one client, `s3://` URLs, one object's download, and what S3's errors mean.

A request that fails becomes one SourceError saying what to fix (`s3_error`). A download tells
an object that cannot be read now (gone since the listing, archived, denied: a
`SourceObjectUnreadable`, which the ingest leaves out) from an error of the run. Listing a bucket
is `pipeline.s3listing`; `pipeline.sources.fetch` runs the downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from pipeline.errors import (
    SourceError,
    SourceObjectArchived,
    SourceObjectDenied,
    SourceObjectGone,
)
from pipeline.layout import SourceObject

# botocore is imported where S3 is used: a local ingest (and the CLI's start) does without it
if TYPE_CHECKING:
    from botocore.exceptions import BotoCoreError, ClientError
    from mypy_boto3_s3 import S3Client

S3_SCHEME = "s3://"
CHUNK = 1024 * 1024
# Retries of a download whose body broke off mid-stream; botocore retries only the request.
BODY_ATTEMPTS = 3


def make_s3_client(*, endpoint_url: str | None = None, region: str | None = None) -> S3Client:
    """The one place an S3 client is created; credentials and region come from the boto3 chain."""
    import boto3.session
    from botocore.config import Config

    config = Config(max_pool_connections=32, retries={"max_attempts": 5, "mode": "standard"})
    try:
        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise SourceError(
            f"--endpoint-url {endpoint_url!r}: {exc}",
            fix="write the server's URL with its scheme, e.g. http://127.0.0.1:9000",
        ) from None


def is_s3_url(source: str) -> bool:
    """Whether `source` is an `s3://` URL (as the AWS CLI, the scheme is lowercase)."""
    return source.startswith(S3_SCHEME)


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split `s3://bucket/prefix` into bucket and prefix (the prefix may be empty)."""
    rest = url[len(S3_SCHEME) :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceError(
            f"{url}: the S3 URL names no bucket",
            fix="write it as s3://BUCKET or s3://BUCKET/PREFIX",
        )
    return bucket, prefix


def error_code(exc: ClientError) -> str:
    """The error code S3 answered (`NoSuchKey`, `AccessDenied`, `404`, ...), or ""."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def s3_error(url: str, bucket: str, exc: ClientError | BotoCoreError) -> SourceError:
    """One clear SourceError for the ways talking to S3 fails."""
    from botocore.exceptions import (
        BotoCoreError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
    )

    if isinstance(exc, NoCredentialsError):
        return SourceError(
            f"{url}: no AWS credentials found",
            fix="set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, EndpointConnectionError):
        # The error holds the whole request URL; the endpoint is its scheme and host.
        parts = urlsplit(str(exc.kwargs.get("endpoint_url", "")))
        endpoint = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        return SourceError(
            f"{url}: cannot connect to the S3 endpoint {endpoint}".rstrip(),
            fix="check --endpoint-url, the region and the network",
        )
    if isinstance(exc, NoRegionError):
        return SourceError(
            f"{url}: no AWS region configured", fix="set AWS_REGION or the profile's region"
        )
    if isinstance(exc, ParamValidationError):
        return SourceError(
            f"{url}: not a valid S3 location ({exc})",
            fix="write it as s3://BUCKET/PREFIX with a valid bucket name",
        )
    if isinstance(exc, BotoCoreError):
        return SourceError(
            f"{url}: S3 request failed ({exc})",
            fix="check --endpoint-url, the region and the network",
        )
    code = error_code(exc)
    if code in MISSING_CODES:
        return SourceError(
            f"{url}: no such object in bucket {bucket} (deleted since it was listed?)",
            fix="check the key, or run the command again to list the sources afresh",
        )
    if code == "NoSuchBucket":
        return SourceError(
            f"{url}: bucket {bucket} does not exist",
            fix="check the bucket name (and --endpoint-url if you use one)",
        )
    if code in {"AccessDenied", "AllAccessDisabled", "403", "AccountProblem"}:
        return SourceError(
            f"{url}: access denied to bucket {bucket}",
            fix="use credentials allowed s3:ListBucket and s3:GetObject on it (check AWS_PROFILE)",
        )
    if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}:
        return SourceError(
            f"{url}: AWS rejected the credentials ({code})",
            fix="refresh the credentials (e.g. `aws sso login`) or check AWS_PROFILE",
        )
    if code in {
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "301",
        "IllegalLocationConstraintException",
    }:
        return SourceError(
            f"{url}: bucket {bucket} is in another region ({code})",
            fix="set AWS_REGION to the bucket's region",
        )
    message = exc.response.get("Error", {}).get("Message") or str(exc)
    return SourceError(
        f"{url}: S3 error {code}: {message}", fix="check the bucket, prefix and credentials"
    )


# GetObject denied after a listing that succeeded: a bucket policy or an SSE-KMS key that denies
# this object (or a prefix), or no s3:GetObject at all (`denied_everything`). Codes of a whole
# bucket or account (AllAccessDisabled, AccountProblem) stay errors of the run.
# the codes of an object or key that is not there (GetObject answers NoSuchKey, HeadObject a
# bare 404)
MISSING_CODES: Final = frozenset({"NoSuchKey", "404"})
DENIED_CODES: Final = frozenset({"AccessDenied", "403"})
GET_OBJECT_FIX: Final = (
    "allow these credentials s3:GetObject on it, and kms:Decrypt on its SSE-KMS key"
)


def _is_denied(exc: ClientError) -> bool:
    """GetObject was refused for this object: denied, or its KMS key would not decrypt it (S3
    passes on KMS's errors as `KMS.*` codes: a disabled or deleted key, a key it may not use)."""
    code = error_code(exc)
    return code in DENIED_CODES or code.startswith("KMS.")


def _denied(uri: str, exc: ClientError) -> SourceObjectDenied:
    """The error for one object the credentials listed but may not read, saying why."""
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")).lower()
    if code.startswith("KMS."):
        why = f"S3 could not decrypt it with its SSE-KMS key ({code})"
    elif "kms" in message or "ciphertext" in message:
        why = "access denied by its SSE-KMS key (the credentials may not use the key)"
    else:
        why = (
            "access denied reading it (the credentials may list the bucket but not read this "
            "object: an SSE-KMS key they may not use, a bucket policy?)"
        )
    return SourceObjectDenied(f"{uri}: {why}", fix=GET_OBJECT_FIX)


def denied_everything(first: str, tried: int) -> SourceError:
    """The error when every object tried (`tried`, from the one at uri `first`) was denied and
    none read: the credentials lack s3:GetObject (or kms:Decrypt) on the sources, which is
    one clear error, not a warning for each object of the archive."""
    bucket, _ = parse_s3_url(first)
    each = f"all {tried} objects tried" if tried > 1 else "the only object to read"
    return SourceError(
        f"{first}: access denied to bucket {bucket}: GetObject was refused for {each}, and "
        "none could be read",
        fix="use credentials allowed s3:GetObject on the bucket, and kms:Decrypt on its SSE-KMS "
        "key (check AWS_PROFILE); if only some prefixes are denied, pass the others as sources",
    )


def download(s3: S3Client, obj: SourceObject, target: Path) -> Path:
    """Download one object to `target`, checking it is still the version that was listed."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = parse_s3_url(obj.uri)
    partial = target.with_name("." + target.name + ".part")
    try:
        for attempt in range(1, BODY_ATTEMPTS + 1):
            response = s3.get_object(Bucket=bucket, Key=key)
            if response["ETag"].strip('"') != obj.version:
                response["Body"].close()
                raise SourceObjectGone(
                    f"{obj.uri}: the object changed after it was listed",
                    fix="run the command again; it lists the sources afresh",
                )
            written = 0
            try:
                with partial.open("wb") as out:
                    for chunk in response["Body"].iter_chunks(CHUNK):
                        out.write(chunk)
                        written += len(chunk)
            except BotoCoreError:
                # The body broke off mid-stream (reset, timeout, short read): try again.
                if attempt == BODY_ATTEMPTS:
                    raise
                continue
            if written != obj.size:
                raise SourceError(
                    f"{obj.uri}: downloaded {written} bytes, expected {obj.size}",
                    fix="run the command again",
                )
            partial.replace(target)
            return target
    except (ClientError, BotoCoreError) as exc:
        error = s3_error(obj.uri, bucket, exc)
        if isinstance(exc, ClientError) and error_code(exc) in MISSING_CODES:
            raise SourceObjectGone(str(error), fix=error.fix) from None
        if isinstance(exc, ClientError) and _is_denied(exc):
            raise _denied(obj.uri, exc) from None
        if isinstance(exc, ClientError) and error_code(exc) == "InvalidObjectState":
            raise SourceObjectArchived(
                f"{obj.uri}: archived (S3 Glacier Flexible Retrieval or Deep Archive, or an "
                "Intelligent-Tiering archive tier) and not restored: GetObject cannot read it",
                fix="restore it (`aws s3api restore-object`), or leave its days out with --since",
            ) from None
        raise error from None
    except OSError as exc:
        raise SourceError(
            f"cannot download {obj.uri} into {target.parent}: {exc.strerror or exc}",
            fix="check the staging folder is writable and has free space",
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover
