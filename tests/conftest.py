"""Shared fixtures and helpers: AWS isolation, CloudTrail record factory, delivery-file writer.

Helpers are plain functions (import them with `from conftest import record, ...`); identities are
AWS documentation placeholders only (123456789012, AKIAIOSFODNN7EXAMPLE, 203.0.113.0/24).
"""

from __future__ import annotations

import copy
import gzip
import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
ORG = "o-exampleorgid"
REPO = Path(__file__).resolve().parent.parent
DROP = object()  # record(field=DROP) removes the field

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No AWS_* variable from the developer's shell, and no ~/.aws files, in any test."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    missing = str(tmp_path_factory.getbasetemp() / "no-aws-config")
    monkeypatch.setenv("AWS_CONFIG_FILE", missing)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def record(**overrides: Any) -> dict[str, Any]:
    """A complete AssumeRole record (IAM user caller) with a fresh eventID; override any field.

    `record(eventID=DROP)` removes a field; nested values are replaced whole.
    """
    n = next(_ids)
    base: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDACKCEVSQ6C2EXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/example-user",
            "accountId": ACCOUNT,
            "accessKeyId": ACCESS_KEY,
            "userName": "example-user",
        },
        "eventTime": "2026-11-01T10:00:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": f"203.0.113.{n % 250 + 1}",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/example-role",
            "roleSessionName": "example-session",
            "durationSeconds": 3600,
        },
        "responseElements": {
            "credentials": {
                "accessKeyId": f"ASIAIOSFODNN{n:08d}",
                "sessionToken": f"IQoJb3JpZ2luX2VjEXAMPLETOKEN{n:08d}+/=",
                "expiration": "Nov 1, 2026, 11:00:00 AM",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROACKCEVSQ6C2EXAMPLE:example-session-{n}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/example-role/example-session",
            },
        },
        "requestID": f"00000000-0000-4000-8000-{n:012d}",
        "eventID": f"10000000-0000-4000-8000-{n:012d}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    for key, value in overrides.items():
        if value is DROP:
            base.pop(key, None)
        else:
            base[key] = copy.deepcopy(value)
    return base


def session_identity(arn: str, key: str, created: str) -> dict[str, Any]:
    """The userIdentity of a call made with a role session's credentials."""
    return {
        "type": "AssumedRole",
        "arn": arn,
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": {"attributes": {"creationDate": created}},
    }


def records(n: int, **overrides: Any) -> list[dict[str, Any]]:
    """`n` records with distinct eventIDs and times (one a second)."""
    out = []
    for i in range(n):
        fields = {"eventTime": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z"} | overrides
        out.append(record(**fields))
    return out


def write_bytes(path: Path, data: bytes) -> Path:
    """Write `data`, creating parent folders; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_delivery_file(
    path: Path, recs: Iterable[dict[str, Any]], *, gz: bool = True, pretty: bool = False
) -> Path:
    """A CloudTrail delivery file `{"Records": [...]}`, gzipped by default (mtime 0)."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    data = orjson.dumps({"Records": list(recs)}, option=option)
    return write_bytes(path, gzip.compress(data, mtime=0) if gz else data)


def delivery_key(
    account: str, day: str = "2026/11/01", *, unique: str = "EXAMPLEabcdef1234"
) -> str:
    """An org-trail key: AWSLogs/o-ORG/ACCOUNT/CloudTrail/us-east-1/DAY/ACCOUNT_CloudTrail_...gz."""
    stamp = day.replace("/", "") + "T0005Z"
    return (
        f"AWSLogs/{ORG}/{account}/CloudTrail/us-east-1/{day}/"
        f"{account}_CloudTrail_us-east-1_{stamp}_{unique}.json.gz"
    )


def lake_files(lake: Path) -> dict[str, bytes]:
    """Every file under the lake, by relative path, with its bytes."""
    return {
        str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*")) if p.is_file()
    }


def event_keys(lake: Path, *columns: str) -> list[tuple[Any, ...]]:
    """Sorted rows of `columns` (default: event_id, record_hash) over the lake's events view."""
    from pipeline import lake as lakefs

    cols = ", ".join(columns or ("event_id", "record_hash"))
    con = lakefs.connect(lake, require_events=False)
    try:
        return sorted(con.execute(f"select {cols} from events").fetchall())
    finally:
        con.close()


def main_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int | str | None, str]:
    """Run the `sts-audit` entry point (`cli.main`, where errors are translated) in this
    process with `args`, so a test can patch the library under it; its exit code and stderr."""
    import sys

    from pipeline import cli

    monkeypatch.setattr(sys, "argv", ["sts-audit", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return done.value.code, capsys.readouterr().err


def quarantine_rows(lake: Path) -> list[dict[str, Any]]:
    """Every quarantine row of the lake, as dicts."""
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for path in sorted((lake / "quarantine").glob("ingest_run=*/part-*.parquet")):
        rows += pq.ParquetFile(path).read().to_pylist()
    return rows


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Path]:
    """A path for a fresh lake (ingest creates it)."""
    yield tmp_path / "lake"
