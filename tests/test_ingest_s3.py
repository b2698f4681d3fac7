"""Ingest from S3 (a local moto server): the same org-trail tree in a bucket ingests exactly as
it does from disk, and a second run downloads nothing."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import (
    ACCOUNT,
    DROP,
    OTHER_ACCOUNT,
    delivery_key,
    event_keys,
    record,
    records,
)

from pipeline import manifest, s3client, s3listing, unreadable
from pipeline.errors import SourceError, StrictIngestError
from pipeline.ingest import check_strict, ingest
from pipeline.layout import SourceObject
from pipeline.s3client import make_s3_client

try:
    from tests.s3server import (  # noqa: F401  (fixtures)
        MotoServer,
        aws_isolated,
        moto_endpoint,
        moto_server,
        s3_env,
    )
except ModuleNotFoundError:  # tests/ has no __init__.py and the project root is not on sys.path
    from s3server import (  # type: ignore[no-redef]  # noqa: F401
        MotoServer,
        aws_isolated,
        moto_endpoint,
        moto_server,
        s3_env,
    )

BUCKET = "example-trail-bucket"
PREFIX = "org"
DIGEST = gzip.compress(
    b'{"awsAccountId": "123456789012", "digestStartTime": "2026-11-01T00:00:00Z", "logFiles": []}'
)
KEYS = ("event_id", "record_hash", "event_date", "recipient_account_id")


def _gz_delivery(recs: list[dict[str, object]]) -> bytes:
    return gzip.compress(json.dumps({"Records": recs}).encode(), mtime=0)


@functools.cache
def org_tree() -> dict[str, bytes]:
    """The same bytes for bucket and disk: two accounts, two days, digest, insight, a bad file."""
    late = record(eventTime="2026-11-01T23:59:59Z")
    return {
        delivery_key(ACCOUNT): _gz_delivery(records(40)),
        delivery_key(ACCOUNT, "2026/11/02", unique="EXAMPLE0000000002"): _gz_delivery(
            [late, *records(5, eventTime="2026-11-02T00:01:00Z")]
        ),
        # no recipientAccountId: the key's account folder names the partition
        delivery_key(OTHER_ACCOUNT): _gz_delivery(records(7, recipientAccountId=DROP)),
        f"AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/11/01/"
        f"{ACCOUNT}_CloudTrail-Digest_us-east-1_org_us-east-1_20261101T010000Z.json.gz": DIGEST,
        f"AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail-Insight/us-east-1/2026/11/01/"
        f"{ACCOUNT}_CloudTrail-Insight_us-east-1_20261101T0100Z_EXAMPLEinsight00001.json.gz": (
            _gz_delivery([{"eventCategory": "Insight", "eventType": "AwsCloudTrailInsight"}])
        ),
        "exports/lake-export.ndjson": b"".join(
            json.dumps(r).encode() + b"\n" for r in records(3, eventTime="2026-11-03T08:00:00Z")
        ),
        "exports/broken.json": b'{"Records": [',
    }


@pytest.fixture
def local_tree(tmp_path: Path) -> Path:
    root = tmp_path / "trail"
    for rel, data in org_tree().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture
def bucket(moto_endpoint: str) -> Iterator[str]:  # noqa: F811
    """The org tree under s3://BUCKET/PREFIX/ on the fake server; yields the endpoint."""
    s3 = make_s3_client(endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    for rel, data in org_tree().items():
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{rel}", Body=data)
    yield moto_endpoint


@pytest.mark.parametrize("change", ["deleted", "replaced"])
def test_an_object_gone_between_listing_and_download_is_left_out_not_fatal(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    # a lifecycle rule expiring an object, or a redelivery replacing it, while the nightly job
    # ran stopped the whole run (nothing else stored, no analysis)
    s3 = make_s3_client(endpoint_url=bucket)
    key = f"{PREFIX}/{delivery_key(ACCOUNT, unique='GONEEXAMPLE')}"
    replacement = gzip.compress(orjson.dumps({"Records": records(30)[20:]}))
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(orjson.dumps({"Records": []})))
    real = s3client.download

    def racing(client: Any, obj: SourceObject, target: Path) -> Path:
        if obj.uri.endswith("GONEEXAMPLE.json.gz"):
            if change == "deleted":
                client.delete_object(Bucket=BUCKET, Key=key)
            else:
                client.put_object(Bucket=BUCKET, Key=key, Body=replacement)
        return real(client, obj, target)

    monkeypatch.setattr(s3client, "download", racing)
    first = ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "lake", endpoint_url=bucket)

    assert first.files_unreadable == 1 and first.records_stored == 56
    [warning] = first.warnings
    assert warning.startswith(f"s3://{BUCKET}/{key}: ")
    monkeypatch.setattr(s3client, "download", real)
    again = ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "lake", endpoint_url=bucket)
    # a replaced object is read the next night; a deleted one is simply no longer listed
    assert (again.files_read, again.records_stored) == ((1, 10) if change == "replaced" else (0, 0))


def test_objects_gone_past_ten_are_one_count_line(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a lifecycle rule expiring a day of objects during the run: a warning for each of them
    # flooded the summary, where denied and archived objects are named ten at most
    s3 = make_s3_client(endpoint_url=bucket)
    for i in range(12):
        key = f"{PREFIX}/{delivery_key(ACCOUNT, '2026/11/06', unique=f'GONE{i:02d}EXAMPLE')}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=_gz_delivery(records(1)))
    real = s3client.download

    def expiring(client: Any, obj: SourceObject, target: Path) -> Path:
        if "_GONE" in obj.uri:
            client.delete_object(Bucket=BUCKET, Key=obj.uri.split(f"s3://{BUCKET}/", 1)[1])
        return real(client, obj, target)

    monkeypatch.setattr(s3client, "download", expiring)
    summary = ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "lake", endpoint_url=bucket)

    assert summary.files_unreadable == 12 and summary.records_stored == 56
    named, [more] = summary.warnings[:-1], summary.warnings[-1:]
    assert len(named) == unreadable.NAMED_AT_MOST
    assert all("_GONE" in w and "not read this run" in w for w in named)
    assert more == (
        "... and 2 more objects could not be read (deleted or replaced since the listing, as "
        "above); the next run retries them"
    )


def test_a_named_object_is_read_when_keys_below_it_share_its_name(
    bucket: str, tmp_path: Path
) -> None:
    # S3 lets `a/b.json.gz` and `a/b.json.gz/c.json.gz` both exist: naming the first read only
    # the second, without a word
    s3 = make_s3_client(endpoint_url=bucket)
    s3.put_object(Bucket=BUCKET, Key="named/b.json.gz", Body=_gz_delivery(records(4)))
    s3.put_object(
        Bucket=BUCKET,
        Key="named/b.json.gz/c.json.gz",
        Body=_gz_delivery(records(2, eventTime="2026-11-02T00:01:00Z")),
    )

    summary = ingest([f"s3://{BUCKET}/named/b.json.gz"], tmp_path / "lake", endpoint_url=bucket)

    assert (summary.files_seen, summary.files_read, summary.records_stored) == (2, 2, 6)


def test_a_denied_head_of_the_prefix_itself_does_not_stop_a_folder_that_lists(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a policy granting reads only under the prefix (org/*) denies a HEAD of the key `org`,
    # which the run asks in case the prefix also names an object; alone, such a key still fails
    real = s3client.make_s3_client

    def make(**kwargs: Any) -> Any:
        client = real(**kwargs)

        def deny(context: dict[str, Any], **_: Any) -> None:
            context["denied"] = "AccessDenied"

        client.meta.events.register("before-parameter-build.s3.HeadObject", deny)
        client.meta.events.register("before-call.s3.HeadObject", _deny["refuse"])
        return client

    monkeypatch.setattr(s3client, "make_s3_client", make)
    summary = ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "lake", endpoint_url=bucket)

    assert summary.records_stored == 56 and not summary.warnings
    with pytest.raises(SourceError, match="denied"):
        ingest([f"s3://{BUCKET}/no-such-key.json"], tmp_path / "lake", endpoint_url=bucket)


def test_an_endpoint_that_answers_404_is_named_not_taken_for_a_deleted_object(
    bucket: str, tmp_path: Path
) -> None:
    # any web server, or an --endpoint-url with a path, answers the listing 404: the error said
    # an object was deleted since it was listed
    import http.server
    import threading

    empty = tmp_path / "www"
    empty.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(empty))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(SourceError, match="answered 404 Not Found") as err:
            ingest(
                [f"s3://{BUCKET}/AWSLogs/"],
                tmp_path / "lake",
                endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
            )
    finally:
        server.shutdown()
    assert "--endpoint-url" in (err.value.fix or "")
    assert not (tmp_path / "lake").exists()


# moto's server enforces no bucket policy and no KMS key: GetObject of the keys a test picks is
# refused in the client the ingest makes, as S3 answers it (403 AccessDenied), before any request;
# `denied(key)` may also name the error code (InvalidObjectState: an archived object)
DENY_GET_OBJECT = """
import botocore.awsrequest

def refuse(context, **_):
    if not context.get("denied"):
        return None
    code = context["denied"]
    body = {"Code": code, "Message": "Access Denied" if code == "AccessDenied" else code}
    response = botocore.awsrequest.AWSResponse("https://example.invalid/", 403, {}, None)
    return response, {"Error": body, "ResponseMetadata": {"HTTPStatusCode": 403}}

def denying(make_client, denied, asked):
    def make(**kwargs):
        client = make_client(**kwargs)

        def note(params, context, **_):
            asked.append(params["Key"])
            verdict = denied(params["Key"])
            context["denied"] = verdict if isinstance(verdict, str) else (
                "AccessDenied" if verdict else None
            )

        client.meta.events.register("before-parameter-build.s3.GetObject", note)
        client.meta.events.register("before-call.s3.GetObject", refuse)
        return client

    return make
"""
_deny: dict[str, Any] = {}
exec(DENY_GET_OBJECT, _deny)  # noqa: S102  (the same code the subprocess test runs)


def deny_get_object(
    monkeypatch: pytest.MonkeyPatch, denied: Callable[[str], bool | str]
) -> list[str]:
    """Refuse GetObject of the keys `denied` picks (True: AccessDenied, or the error code it
    returns); returns the keys GetObject was asked."""
    asked: list[str] = []
    make = _deny["denying"](s3client.make_s3_client, denied, asked)
    monkeypatch.setattr(s3client, "make_s3_client", make)
    return asked


def manifest_uris(lake: Path) -> set[str]:
    """The events objects the lake's manifest holds (not the digest and insight it skipped)."""
    return {
        entry["uri"]
        for path in manifest.files(lake / "_state")
        for entry in orjson.loads(path.read_bytes())
        if entry["kind"] == "events"
    }


def test_an_object_denied_after_the_listing_is_left_out_and_read_once_allowed(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # credentials that list the bucket may still be denied one object (an SSE-KMS key they may
    # not use, a bucket policy): the nightly run stopped on it every night, storing nothing
    key = f"{PREFIX}/{delivery_key(OTHER_ACCOUNT)}"  # 7 of the tree's 56 records
    denied = {key}
    asked = deny_get_object(monkeypatch, lambda k: k in denied)
    lake = tmp_path / "lake"
    first = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)

    assert key in asked
    assert (first.files_unreadable, first.records_stored, first.files_quarantined) == (1, 49, 1)
    assert first.reconciles and first.records_read == 49 + first.records_rejected
    [warning] = first.warnings
    assert warning == (
        f"s3://{BUCKET}/{key}: access denied reading it (the credentials may list the bucket "
        "but not read this object: an SSE-KMS key they may not use, a bucket policy?); not "
        "read this run, the next run retries it (fix: allow these credentials s3:GetObject on "
        "it, and kms:Decrypt on its SSE-KMS key)"
    )
    uris = manifest_uris(lake)
    assert f"s3://{BUCKET}/{key}" not in uris
    assert f"s3://{BUCKET}/{PREFIX}/{delivery_key(ACCOUNT)}" in uris
    with pytest.raises(StrictIngestError, match=r"^1 file\(s\) could not be opened"):
        check_strict(first)

    # the next run's only new object is the denied one: still a warning, not "the credentials
    # read nothing" (an earlier run read the rest of the bucket)
    asked.clear()
    rerun = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)
    assert asked == [key] and (rerun.files_unreadable, rerun.records_read) == (1, 0)
    assert rerun.warnings == first.warnings

    denied.clear()  # the role may now use the key
    asked.clear()
    again = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)
    assert asked == [key]
    assert (again.files_read, again.records_stored, again.files_unreadable) == (1, 7, 0)
    assert again.warnings == [] and f"s3://{BUCKET}/{key}" in manifest_uris(lake)


def test_every_object_denied_is_one_error_after_the_first_few(bucket: str, tmp_path: Path) -> None:
    # credentials without s3:GetObject: one clear error soon, not a warning for every object
    # (two accounts of 40 new objects each: the first account alone could be one denied folder)
    s3 = make_s3_client(endpoint_url=bucket)
    for account in (OTHER_ACCOUNT, ACCOUNT):
        for i in range(40):
            key = delivery_key(account, "2026/11/05", unique=f"EXAMPLE{i:010d}")
            s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}", Body=_gz_delivery(records(1)))
    asked = tmp_path / "asked"
    code = (
        f"{DENY_GET_OBJECT}\n"
        "import pipeline.s3client as s\n"
        "class Asked(list):\n"
        "    def append(self, key):\n"
        f"        with open({str(asked)!r}, 'a') as out: out.write(key + '\\n')\n"
        "s.make_s3_client = denying(s.make_s3_client, lambda key: True, Asked())\n"
        "from pipeline.cli import main\n"
        "main()\n"
    )
    lake = tmp_path / "lake"
    args = ["run", f"s3://{BUCKET}/{PREFIX}", "--lake", str(lake), "--endpoint-url", bucket]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    first, _, message = line.partition(".json.gz: ")  # the first object denied
    assert first.startswith(f"error: s3://{BUCKET}/{PREFIX}/AWSLogs/o-exampleorgid/")
    verdict = re.fullmatch(
        f"access denied to bucket {BUCKET}: GetObject was refused for all ([0-9]+) objects "
        r"tried, and none could be read \(fix: use credentials allowed s3:GetObject on the "
        r"bucket, and kms:Decrypt on its SSE-KMS key \(check AWS_PROFILE\); if only some "
        r"prefixes are denied, pass the others as sources\)",
        message,
    )
    assert verdict, message
    # it stopped at the verdict, in the second account: the downloads in flight ended, no more
    # were started
    tried = asked.read_text().splitlines()
    assert any(f"/{ACCOUNT}/" in key for key in tried)
    assert unreadable.ALL_DENIED_AFTER <= int(verdict[1]) <= len(tried) < 80
    assert manifest_uris(lake) == set()


def test_fewer_objects_than_the_verdict_needs_all_denied_is_the_same_error(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny_get_object(monkeypatch, lambda key: True)
    with pytest.raises(SourceError, match="GetObject was refused for all 5 objects tried") as info:
        ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "lake", endpoint_url=bucket)
    assert "s3:GetObject" in info.value.fix
    assert manifest_uris(tmp_path / "lake") == set()


def test_a_denied_prefix_is_ten_warnings_and_one_count(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a bucket policy denying one account's prefix: 41 objects, not 41 warnings; that account
    # sorts first, and its objects were all the run's first 32 (which stopped it, every night)
    from typer.testing import CliRunner

    from pipeline.cli import app

    s3 = make_s3_client(endpoint_url=bucket)
    for i in range(40):
        key = delivery_key(OTHER_ACCOUNT, "2026/11/05", unique=f"EXAMPLE{i:010d}")
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}", Body=_gz_delivery(records(1)))
    account = f"{PREFIX}/AWSLogs/o-exampleorgid/{OTHER_ACCOUNT}/"
    deny_get_object(monkeypatch, lambda key: key.startswith(account))
    args = ["ingest", f"s3://{BUCKET}/{PREFIX}", "--lake", str(tmp_path / "lake"), "--endpoint-url"]
    result = CliRunner().invoke(app, [*args, bucket, "--json", "--strict"])

    assert isinstance(result.exception, StrictIngestError), result.output
    assert "41 file(s) could not be opened" in str(result.exception)
    summary = json.loads(result.stdout)
    assert (summary["files_unreadable"], summary["records_stored"]) == (41, 49)
    assert summary["reconciles"] is True
    named, [more] = summary["warnings"][:-1], summary["warnings"][-1:]
    assert len(named) == unreadable.NAMED_AT_MOST
    assert all(w.startswith(f"s3://{BUCKET}/{account}") for w in named)
    assert all(": access denied reading it (" in w for w in named)
    assert more == (
        "... and 31 more objects could not be read (access denied, as above); the next run "
        "retries them"
    )
    assert result.stderr.splitlines() == [f"warning: {w}" for w in summary["warnings"]]


def test_archived_objects_are_left_out_counted_and_never_taken_for_a_denial(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a trail bucket's lifecycle rule moves old logs to S3 Glacier: GetObject answers
    # InvalidObjectState, which stopped a run over the archive at its first old object
    s3 = make_s3_client(endpoint_url=bucket)
    for i in range(40):  # the first account's objects, the first 40 downloads of the run
        key = delivery_key(OTHER_ACCOUNT, "2026/11/05", unique=f"EXAMPLE{i:010d}")
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}", Body=_gz_delivery(records(1)))
    account = f"{PREFIX}/AWSLogs/o-exampleorgid/{OTHER_ACCOUNT}/"
    archived = [True]
    deny_get_object(
        monkeypatch,
        lambda key: "InvalidObjectState" if archived[0] and key.startswith(account) else False,
    )
    lake = tmp_path / "lake"
    first = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)

    assert (first.files_unreadable, first.records_stored) == (41, 49)
    assert first.reconciles
    named, [more] = first.warnings[:-1], first.warnings[-1:]
    assert len(named) == unreadable.NAMED_AT_MOST
    assert all(w.startswith(f"s3://{BUCKET}/{account}") for w in named)
    assert named[0].endswith(
        ": archived (S3 Glacier Flexible Retrieval or Deep Archive, or an Intelligent-Tiering "
        "archive tier) and not restored: GetObject cannot read it; not read this run (fix: "
        "restore it (`aws s3api restore-object`), or leave its days out with --since)"
    )
    assert more == (
        "... and 31 more objects could not be read (archived, as above); the next run retries them"
    )
    assert not any(f"s3://{BUCKET}/{account}" in uri for uri in manifest_uris(lake))
    with pytest.raises(StrictIngestError, match=r"^41 file\(s\) could not be opened"):
        check_strict(first)
    archived[0] = False  # restored: the next run reads exactly those
    again = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)
    assert (again.files_read, again.files_unreadable, again.warnings) == (41, 0, [])


def test_bucket_ingests_like_the_same_files_on_disk(
    bucket: str, local_tree: Path, tmp_path: Path
) -> None:
    remote = ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "s3-lake", endpoint_url=bucket)
    local = ingest([str(local_tree)], tmp_path / "local-lake")

    counts = (
        "files_seen",
        "files_read",
        "files_skipped_digest",
        "files_skipped_insight",
        "files_quarantined",
        "records_read",
        "records_stored",
        "records_duplicate",
        "records_rejected",
    )
    assert {c: getattr(remote, c) for c in counts} == {c: getattr(local, c) for c in counts}
    assert remote.records_stored == 56 and remote.files_quarantined == 1
    assert (remote.files_skipped_digest, remote.files_skipped_insight) == (1, 1)
    s3_rows = event_keys(tmp_path / "s3-lake", *KEYS)
    assert s3_rows == event_keys(tmp_path / "local-lake", *KEYS)
    assert {r[3] for r in s3_rows} == {ACCOUNT, OTHER_ACCOUNT}
    uris = {u for (u,) in event_keys(tmp_path / "s3-lake", "distinct source_uri")}
    assert all(u.startswith(f"s3://{BUCKET}/{PREFIX}/") for u in uris)
    # downloads are staged inside the lake and removed afterwards
    downloads = tmp_path / "s3-lake" / "_state" / "downloads"
    assert not downloads.exists() or not any(p.is_file() for p in downloads.rglob("*"))


def test_second_run_from_the_bucket_downloads_nothing(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    first = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)
    before = event_keys(lake, *KEYS)

    def no_download(*args: object, **kwargs: object) -> Path:
        raise AssertionError("an object was downloaded again")

    monkeypatch.setattr(s3client, "download", no_download)
    second = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)

    assert first.records_stored == 56
    assert second.files_unchanged == second.files_seen == first.files_seen
    assert (second.files_read, second.records_read, second.batches) == (0, 0, 0)
    assert event_keys(lake, *KEYS) == before


def test_a_new_object_in_the_bucket_is_the_only_one_downloaded(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)
    new_key = f"{PREFIX}/" + delivery_key(ACCOUNT, "2026/11/03", unique="EXAMPLE0000000009")
    make_s3_client(endpoint_url=bucket).put_object(
        Bucket=BUCKET, Key=new_key, Body=_gz_delivery(records(4, eventTime="2026-11-03T09:00:00Z"))
    )
    downloaded: list[str] = []
    real = s3client.download

    def counting(s3: object, obj: SourceObject, target: Path) -> Path:
        downloaded.append(obj.uri)
        return real(s3, obj, target)  # type: ignore[arg-type]

    monkeypatch.setattr(s3client, "download", counting)
    summary = ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=bucket)

    assert downloaded == [f"s3://{BUCKET}/{new_key}"]
    assert (summary.files_read, summary.records_stored) == (1, 4)


def test_cli_endpoint_url_option(bucket: str, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("sts-audit")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]
    lake = tmp_path / "lake"
    # boto3's own endpoint variables point nowhere: only --endpoint-url reaches the server
    env = os.environ | {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    ingest_args = [*command, "ingest", f"s3://{BUCKET}/{PREFIX}", "--lake", str(lake), "--json"]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ingest_args, *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )

    done = run("--endpoint-url", bucket)

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["records_stored"] == 56 and summary["reconciles"] is True


@pytest.mark.parametrize(
    ("page_size", "widest"),
    [(1000, None), (2, None), (2, 3)],
    ids=["one-page", "walk-and-start-after", "wider-than-the-walk-cap"],
)
def test_since_leaves_out_older_day_folders_on_disk_and_in_the_bucket_alike(
    bucket: str,
    local_tree: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    page_size: int,
    widest: int | None,
) -> None:
    # two keys a page: the listing walks the folders level by level down to the regions, then
    # lists each region from its first day on or after --since. An organization of 61 accounts
    # has more region folders than the walk's cap on a level (2,048), and the whole archive was
    # listed every night: here the cap is 3 and the tree has 4 kind and 4 region folders
    monkeypatch.setattr(s3listing, "LIST_PAGE", page_size)
    if widest is not None:
        monkeypatch.setattr(s3listing, "LIST_WIDEST", widest)
    requests: list[dict[str, Any]] = []
    since = dt.date(2026, 11, 2)
    real_client = s3client.make_s3_client

    def recording_client(**kwargs: Any) -> Any:
        client = real_client(**kwargs)
        client.meta.events.register(
            "before-parameter-build.s3.ListObjectsV2",
            lambda params, **_: requests.append(dict(params)),
        )
        return client

    monkeypatch.setattr(s3client, "make_s3_client", recording_client)
    # a file beside the day folders, outside the layout: read, and its key sorts before 2026/
    backfill = f"AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail/us-east-1/1999-backfill.ndjson"
    body = b"".join(orjson.dumps(r) + b"\n" for r in records(2, eventTime="2026-11-04T00:00:00Z"))
    real_client(endpoint_url=bucket).put_object(
        Bucket=BUCKET, Key=f"{PREFIX}/{backfill}", Body=body
    )
    (local_tree / backfill).write_bytes(body)
    # files and folders beside the day folders inside the year and the month of --since,
    # whose names sort before its day: not day folders delivered before it, so read as on
    # disk; and one under an older month, left out as on disk
    region = f"AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail/us-east-1"
    strays = (
        ("2026/0-resent.ndjson", 5),
        ("2026/11/01-resent.ndjson", 6),
        ("2026/0-import/a.ndjson", 7),
        ("2026/11/01-resent/b.ndjson", 8),
        ("2026/10/01-resent/c.ndjson", 9),
    )
    for stray, when in strays:
        stray_body = orjson.dumps(record(eventTime=f"2026-11-0{when}T00:00:00Z")) + b"\n"
        real_client(endpoint_url=bucket).put_object(
            Bucket=BUCKET, Key=f"{PREFIX}/{region}/{stray}", Body=stray_body
        )
        (local_tree / region / stray).parent.mkdir(parents=True, exist_ok=True)
        (local_tree / region / stray).write_bytes(stray_body)
    remote = ingest([f"s3://{BUCKET}/{PREFIX}"], tmp_path / "s3", endpoint_url=bucket, since=since)
    local = ingest([str(local_tree)], tmp_path / "local", since=since)

    # the 11/02 delivery file and the seven files outside the day folders; none of 11/01's
    # files, nor the one under 2026/10
    assert (remote.files_seen, local.files_seen) == (8, 8)
    assert remote.records_stored == local.records_stored == 6 + 3 + 2 + 4
    assert event_keys(tmp_path / "s3", *KEYS) == event_keys(tmp_path / "local", *KEYS)
    dates = {d for (d,) in event_keys(tmp_path / "local", "distinct event_date")}
    assert dates == {dt.date(2026, 11, d) for d in (1, 2, 3, 4, 5, 6, 7, 8)}
    if page_size == 2:
        # no request lists an old day folder, and the years are listed from --since on (but
        # for one level of the year and of the month, their own files, not their folders')
        assert not any(r["Prefix"].endswith("/2026/11/01/") for r in requests)
        year_requests = [r for r in requests if r["Prefix"].endswith("/2026/")]
        assert year_requests and all(
            "StartAfter" in r or r.get("Delimiter") == "/" for r in year_requests
        )
        assert {r["StartAfter"] for r in requests if "StartAfter" in r} == {
            f"{PREFIX}/AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail/us-east-1/2026/11/02",
            f"{PREFIX}/AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/11/02",
            f"{PREFIX}/AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail-Insight/us-east-1/2026/11/02",
            f"{PREFIX}/AWSLogs/o-exampleorgid/{OTHER_ACCOUNT}/CloudTrail/us-east-1/2026/11/02",
        }
    # a day folder before --since named as the source holds nothing newer, on disk and in S3
    day = f"AWSLogs/o-exampleorgid/{ACCOUNT}/CloudTrail/us-east-1/2026/11/01"
    old_local = ingest([str(local_tree / day)], tmp_path / "old-local", since=since)
    old_s3 = ingest(
        [f"s3://{BUCKET}/{PREFIX}/{day}/"], tmp_path / "old-s3", endpoint_url=bucket, since=since
    )
    assert old_local.files_seen == old_s3.files_seen == 0
    # and without --since, the same lake takes the older folders on the next run
    rest = ingest([str(local_tree)], tmp_path / "local")
    assert (rest.files_unchanged, rest.files_read) == (8, 3)
    assert (rest.files_skipped_digest, rest.files_skipped_insight) == (1, 1)


@pytest.mark.parametrize("command", ["ingest", "run"])
def test_since_on_the_command_line(local_tree: Path, tmp_path: Path, command: str) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    args = [command, str(local_tree), "--lake", str(tmp_path / "lake"), "--json"]
    result = CliRunner().invoke(app, [*args, "--since", "2026-11-02"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    summary = summary.get("ingest", summary)  # `run` wraps the ingest summary
    assert (summary["files_seen"], summary["records_stored"]) == (3, 9)
    bad = CliRunner().invoke(app, [*args, "--since", "11/02/2026"])
    assert bad.exit_code == 2 and "--since" in bad.output
    assert "YYYY-MM-DD, today, yesterday or Nd" in bad.output


@pytest.mark.parametrize("since", ["3d", "yesterday"])
def test_since_relative_to_today(
    local_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, since: str
) -> None:
    # a nightly job writes --since 3d instead of computing the date: 2026-11-05 less 3 days is
    # the 2026-11-02 of the test above
    from typer.testing import CliRunner

    from pipeline import days
    from pipeline.cli import app

    today = dt.date(2026, 11, 5) if since == "3d" else dt.date(2026, 11, 3)
    monkeypatch.setattr(days, "utc_today", lambda: today)
    args = ["ingest", str(local_tree), "--lake", str(tmp_path / "lake"), "--json"]
    result = CliRunner().invoke(app, [*args, "--since", since])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["files_seen"], summary["records_stored"]) == (3, 9)


def test_an_old_key_named_as_a_source_stays_unchanged_once_its_entry_is_folded(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a key named as a source is listed whatever --since says of its day folder: its folded
    # manifest entry must be read, or the key is downloaded and read again every night
    monkeypatch.setattr(manifest, "COMPACT_AT", 1)
    key = delivery_key(ACCOUNT)  # a 2026/11/01 delivery file of the org tree
    url = f"s3://{BUCKET}/{PREFIX}/{key}"
    lake = tmp_path / "lake"
    ingest([url], lake, endpoint_url=bucket)
    assert manifest.parts(lake / "_state")
    again = ingest([url], lake, endpoint_url=bucket, since=dt.date(2026, 11, 5))
    assert (again.files_unchanged, again.files_read) == (1, 0)


def test_s3_without_credentials_fails_before_the_lake_is_made(
    moto_server: MotoServer,  # noqa: F811
    aws_isolated: None,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # a region, no credentials
    lake = tmp_path / "lake"

    with pytest.raises(SourceError, match="no AWS credentials"):
        ingest([f"s3://{BUCKET}/{PREFIX}"], lake, endpoint_url=moto_server.endpoint_url)

    assert not lake.exists()


def test_a_missing_bucket_fails_before_the_lake_is_made(bucket: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake"

    with pytest.raises(SourceError, match="no-such-bucket does not exist"):
        ingest(["s3://no-such-bucket/AWSLogs/"], lake, endpoint_url=bucket)

    assert not lake.exists()


def test_a_firehose_object_in_a_bucket_ingests_like_the_same_file_on_disk(
    moto_endpoint: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    # CloudTrail through CloudWatch Logs, a subscription filter and Firehose: gzip payloads one
    # after the other in an object named without a suffix, found by listing the prefix
    recs = records(4, eventTime="2026-11-01T10:00:00Z")
    payloads = [
        {
            "messageType": "DATA_MESSAGE",
            "owner": ACCOUNT,
            "logGroup": "aws-cloudtrail-logs",
            "logStream": f"{ACCOUNT}_CloudTrail_us-east-1",
            "subscriptionFilters": ["to-firehose"],
            "logEvents": [
                {"id": str(i), "timestamp": 1793527200000, "message": json.dumps(r)}
                for i, r in enumerate(part)
            ],
        }
        for part in (recs[:1], recs[1:])
    ]
    body = b"".join(gzip.compress(json.dumps(p).encode()) for p in payloads)
    key = "firehose/2026/11/01/10/trail-1-2026-11-01-10-05-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250"
    s3 = make_s3_client(endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    local = tmp_path / "copy" / key
    local.parent.mkdir(parents=True)
    local.write_bytes(body)

    remote = ingest([f"s3://{BUCKET}/firehose/"], tmp_path / "s3-lake", endpoint_url=moto_endpoint)
    on_disk = ingest([str(tmp_path / "copy")], tmp_path / "local-lake")

    assert (remote.files_read, remote.records_read, remote.records_stored) == (1, 4, 4)
    assert (on_disk.files_read, on_disk.records_stored) == (1, 4)
    assert event_keys(tmp_path / "s3-lake", *KEYS) == event_keys(tmp_path / "local-lake", *KEYS)
