"""Source discovery and fetching, on local folders and on a local S3-compatible server."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

import pipeline.local_files
import pipeline.s3listing
import pipeline.sources
from pipeline.errors import (
    SourceError,
    SourceObjectArchived,
    SourceObjectDenied,
    SourceObjectGone,
    SourceObjectUnreadable,
)
from pipeline.layout import (
    SourceObject,
    classify,
    delivered_before,
    first_key_since,
    make_object,
    path_hints,
)
from pipeline.s3client import make_s3_client
from pipeline.sources import discover, fetch

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

try:
    from tests.s3server import (  # noqa: F401  (fixtures)
        MotoServer,
        aws_isolated,
        free_port,
        moto_endpoint,
        moto_server,
        s3_env,
    )
except ModuleNotFoundError:  # tests/ has no __init__.py and the project root is not on sys.path
    from s3server import (  # type: ignore[no-redef]  # noqa: F401
        MotoServer,
        aws_isolated,
        free_port,
        moto_endpoint,
        moto_server,
        s3_env,
    )

ORG = "o-exampleorgid"
ACCT = "123456789012"
OTHER_ACCT = "111122223333"
DAY = "us-east-1/2026/11/01"
EVENTS_KEY = (
    f"AWSLogs/{ORG}/{ACCT}/CloudTrail/{DAY}/"
    f"{ACCT}_CloudTrail_us-east-1_20261101T0005Z_EXAMPLEabcdef1234.json.gz"
)
OTHER_EVENTS_KEY = (
    f"AWSLogs/{ORG}/{OTHER_ACCT}/CloudTrail/{DAY}/"
    f"{OTHER_ACCT}_CloudTrail_us-east-1_20261101T0010Z_EXAMPLE0000000002.json.gz"
)
DIGEST_KEY = (
    f"AWSLogs/{ORG}/{ACCT}/CloudTrail-Digest/{DAY}/"
    f"{ACCT}_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261101T010000Z.json.gz"
)
INSIGHT_KEY = (
    f"AWSLogs/{ORG}/{ACCT}/CloudTrail-Insight/{DAY}/"
    f"{ACCT}_CloudTrail-Insight_us-east-1_20261101T0100Z_EXAMPLEinsight00001.json.gz"
)
# name -> (kind, account_hint, org_id_hint, compressed) for what discovery must list.
EXPECTED = {
    EVENTS_KEY: ("events", ACCT, ORG, True),
    OTHER_EVENTS_KEY: ("events", OTHER_ACCT, ORG, True),
    DIGEST_KEY: ("digest", ACCT, ORG, True),
    INSIGHT_KEY: ("insight", ACCT, ORG, True),
    "exports/lake-export.ndjson": ("events", None, None, False),
    "README.txt": ("other", None, None, False),
}
# Present in the tree, never listed.
HIDDEN = [
    ".DS_Store",
    f"AWSLogs/{ORG}/{ACCT}/CloudTrail/{DAY}/.partial.json.gz",
    f"AWSLogs/{ORG}/_SUCCESS",
    "_temporary/0/part-0000.json",
    ".cache/old.json.gz",
]


@pytest.fixture(autouse=True)
def no_aws_env(aws_isolated: None) -> None:  # noqa: F811
    """No AWS_* variables except the dummy ones `moto_endpoint` sets for its own tests."""


def _records(account: str, n: int) -> bytes:
    records = [
        {
            "eventVersion": "1.08",
            "eventID": f"00000000-0000-0000-0000-{account}{i:03d}"[:36],
            "eventTime": "2026-11-01T00:0{i}:00Z",
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "recipientAccountId": account,
        }
        for i in range(n)
    ]
    return gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)


def org_tree_files() -> dict[str, bytes]:
    """The org-trail layout used by every test: relative path -> bytes."""
    files = {
        EVENTS_KEY: _records(ACCT, 3),
        OTHER_EVENTS_KEY: _records(OTHER_ACCT, 2),
        DIGEST_KEY: gzip.compress(b'{"awsAccountId": "123456789012", "logFiles": []}', mtime=0),
        INSIGHT_KEY: gzip.compress(b'{"Records": [{"eventCategory": "Insight"}]}', mtime=0),
        "exports/lake-export.ndjson": b'{"eventID": "e1"}\n{"eventID": "e2"}\n',
        "README.txt": b"not a log\n",
    }
    files.update({name: b"hidden\n" for name in HIDDEN})
    return files


@pytest.fixture
def org_tree(tmp_path: Path) -> Path:
    root = tmp_path / "trail"
    for rel, data in org_tree_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _summary(objects: list[SourceObject], prefix: str) -> dict[str, tuple[object, ...]]:
    return {
        o.uri.removeprefix(prefix): (o.kind, o.account_hint, o.org_id_hint, o.compressed)
        for o in objects
    }


# --- local ------------------------------------------------------------------------------------


def test_local_org_trail_folder_lists_kinds_hints_in_uri_order(org_tree: Path) -> None:
    objects = discover([str(org_tree)])

    assert _summary(objects, f"{org_tree.resolve()}/") == EXPECTED
    assert [o.uri for o in objects] == sorted(o.uri for o in objects)
    events = next(o for o in objects if o.uri.endswith(EVENTS_KEY))
    stat = (org_tree / EVENTS_KEY).stat()
    assert events.uri == str((org_tree / EVENTS_KEY).resolve())
    assert (events.size, events.version) == (stat.st_size, str(stat.st_mtime_ns))


def test_local_relative_path_gives_absolute_uris(
    org_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(org_tree.parent)
    objects = discover(["trail/AWSLogs"])
    assert {o.uri for o in objects} == {
        str(org_tree.resolve() / k) for k in EXPECTED if k.startswith("AWSLogs/")
    }


def test_local_named_file_is_read_whatever_its_name(org_tree: Path) -> None:
    [readme] = discover([str(org_tree / "README.txt")])
    [hidden] = discover([str(org_tree / ".DS_Store")])
    assert readme.kind == "events"
    assert hidden.uri.endswith("/.DS_Store")


def test_symlinked_files_are_read_and_symlinked_folders_are_not_followed(
    org_tree: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "extra.json").write_bytes(b"{}")
    (org_tree / "linked.json").symlink_to(outside / "extra.json")
    (org_tree / "loop").symlink_to(org_tree)
    (org_tree / "dangling.json").symlink_to(tmp_path / "gone.json")

    uris = [o.uri for o in discover([str(org_tree)])]

    assert str((outside / "extra.json").resolve()) in uris
    assert len(uris) == len(EXPECTED) + 1


def _left_out(sources: list[str], s3: Any = None) -> dict[str, str]:
    told: dict[str, str] = {}
    listed = pipeline.sources.stream(
        sources, s3=s3, on_left_out=lambda path, why: told.setdefault(path, why)
    )
    for _ in listed:
        pass
    return told


def test_what_a_folder_walk_leaves_out_is_told_with_its_reason(
    org_tree: Path, tmp_path: Path
) -> None:
    # left out without a word, a folder of symbolic links to the archives read nothing
    outside = tmp_path / "outside"
    outside.mkdir()
    (org_tree / "linked").symlink_to(outside)
    (org_tree / "dangling.json").symlink_to(tmp_path / "gone.json")
    os.mkfifo(org_tree / "pipe")
    root = org_tree.resolve()

    told = _left_out([str(org_tree)])

    hidden = pipeline.local_files.HIDDEN
    assert told == {
        f"{root}/.DS_Store": hidden,
        f"{root}/AWSLogs/{ORG}/{ACCT}/CloudTrail/{DAY}/.partial.json.gz": hidden,
        f"{root}/AWSLogs/{ORG}/_SUCCESS": hidden,
        f"{root}/_temporary": hidden,
        f"{root}/.cache": hidden,
        f"{root}/linked": pipeline.local_files.FOLDER_LINK,
        f"{root}/dangling.json": pipeline.local_files.NOT_A_FILE,
        f"{root}/pipe": pipeline.local_files.NOT_A_FILE,
    }


def test_a_loop_of_links_is_left_out_and_the_rest_of_its_folder_read(
    org_tree: Path, tmp_path: Path
) -> None:
    # following one stopped the walk: the whole folder was unreadable, or the run failed
    day = org_tree / "AWSLogs" / ORG / ACCT / "CloudTrail" / DAY
    (day / "self.json").symlink_to(day / "self.json")
    (day / "a.json").symlink_to(day / "b.json")
    (day / "b.json").symlink_to(day / "a.json")
    root = day.resolve()

    told = _left_out([str(org_tree)])
    uris = [o.uri for o in discover([str(org_tree)])]

    loops = {k: v for k, v in told.items() if k.startswith(str(root)) and "partial" not in k}
    assert sorted(loops) == [f"{root}/{n}.json" for n in ("a", "b", "self")]
    assert all(v.startswith(pipeline.local_files.LINK_NOT_FOLLOWED) for v in loops.values())
    assert len(uris) == len(EXPECTED)


@pytest.mark.parametrize("source", ["", "  "])
def test_an_empty_source_is_an_error_not_the_current_folder(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `sts-audit ingest "$SRC"` with SRC unset: it ingested whatever the current folder held
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match="an empty source path"):
        list(discover([source]))


@pytest.mark.parametrize("page_size", [1000, 2], ids=["one-page", "fan-out-and-paginate"])
def test_a_prefix_tells_the_hidden_names_a_folder_walk_tells(
    s3_tree: str, org_tree: Path, page_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.s3listing, "LIST_PAGE", page_size)
    local = _left_out([str(org_tree)])
    remote = _left_out(["s3://trail-bucket/org"], s3=fake_s3(s3_tree))

    root = f"{org_tree.resolve()}/"
    assert {k.removeprefix("s3://trail-bucket/org/").rstrip("/") for k in remote} == {
        k.removeprefix(root) for k in local
    }
    assert set(remote.values()) == {pipeline.local_files.HIDDEN}


def test_overlapping_sources_list_each_file_once(org_tree: Path) -> None:
    objects = discover([str(org_tree / EVENTS_KEY), str(org_tree), str(org_tree / "AWSLogs")])
    assert len(objects) == len(EXPECTED)


def test_missing_local_path_raises_source_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(SourceError, match="no-such-folder") as info:
        discover([str(missing)])
    assert info.value.fix


def test_a_pipe_named_as_a_source_is_refused_not_read(tmp_path: Path) -> None:
    # a FIFO named on the command line made ingest wait for a writer forever
    fifo = tmp_path / "events.json"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="not a regular file") as info:
        discover([str(fifo)])
    assert str(fifo) in str(info.value) and info.value.fix


def test_fetch_of_local_files_yields_their_own_path(org_tree: Path, tmp_path: Path) -> None:
    objects = discover([str(org_tree)])
    staging = tmp_path / "staging"
    got = list(fetch(objects, staging))
    assert got == [(o, Path(o.uri)) for o in objects]
    assert not staging.exists()


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (EVENTS_KEY, "events"),
        (DIGEST_KEY, "digest"),
        (INSIGHT_KEY, "insight"),
        (f"x/{ACCT}_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T010000Z.json.gz", "digest"),
        (f"x/{ACCT}_CloudTrail-Insight_us-east-1_20261101T0100Z_abc.json.gz", "insight"),
        ("logs/export.jsonl", "events"),
        ("logs/export.JSONL.GZ", "events"),
        ("logs/lookup-events.json", "events"),
        ("logs/events.ndjson.gz", "events"),
        ("logs/archive.gz", "events"),
        ("logs/notes.md", "other"),
        ("logs/events.json.bz2", "other"),
        # Firehose's objects: STREAM[-VERSION]-YYYY-MM-DD-HH-MM-SS-UUID, gzip without a suffix
        ("fh/2026/11/01/10/t-1-2026-11-01-10-00-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250", "events"),
        ("fh/s-2015-10-29-00-01-21-a188030a-62d2-49e6-b7c2-b11f1a7ba250", "events"),
        # with the stream's file extension (its own compression on, or a custom one)
        ("fh/s-2015-10-29-00-01-21-a188030a-62d2-49e6-b7c2-b11f1a7ba250.log", "events"),
        ("fh/s-2015-10-29-00-01-21-a188030a-62d2-49e6-b7c2-b11f1a7ba250.json.gz", "events"),
        ("fh/s-2015-10-29-00-01-21-a188030a-62d2-49e6-b7c2-b11f1a7ba250-copy", "other"),
        ("fh/s-2015-10-29-00-01-21-not-a-uuid", "other"),
    ],
)
def test_classify_by_path(path: str, kind: str) -> None:
    assert classify(path) == kind


@pytest.mark.parametrize(
    ("path", "hints"),
    [
        (EVENTS_KEY, (ACCT, ORG)),
        (f"AWSLogs/{ACCT}/CloudTrail/{DAY}/f.json.gz", (ACCT, None)),
        (f"{ORG}/AWSLogs/{ORG}/{ACCT}/CloudTrail/{DAY}/f.json.gz", (ACCT, ORG)),
        (f"{ORG}/AWSLogs/{ACCT}/CloudTrail/{DAY}/f.json.gz", (ACCT, ORG)),
        (
            f"bucket-prefix/AWSLogs/{OTHER_ACCT}/CloudTrail-Digest/{DAY}/d.json.gz",
            (OTHER_ACCT, None),
        ),
        (
            f"flat/{ACCT}_CloudTrail_us-east-1_20261101T0005Z_EXAMPLEabcdef1234.json.gz",
            (ACCT, None),
        ),
        ("AWSLogs/not-an-account/CloudTrail/f.json.gz", (None, None)),
        ("exports/events.ndjson", (None, None)),
    ],
)
def test_path_hints(path: str, hints: tuple[str | None, str | None]) -> None:
    assert path_hints(path) == hints


# --- S3 (moto server) ---------------------------------------------------------------------------


@functools.cache
def fake_s3(endpoint: str) -> S3Client:
    """A client for the fake server, built once per endpoint (building one takes ~0.2 s)."""
    return make_s3_client(endpoint_url=endpoint)


def _upload(endpoint: str, bucket: str, prefix: str, files: dict[str, bytes]) -> None:
    s3 = fake_s3(endpoint)
    s3.create_bucket(Bucket=bucket)
    for rel, data in files.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}{rel}", Body=data)


@pytest.fixture
def s3_tree(moto_endpoint: str) -> Iterator[str]:  # noqa: F811
    """The org tree under s3://trail-bucket/org/ on the fake server; yields the endpoint."""
    _upload(moto_endpoint, "trail-bucket", "org/", org_tree_files())
    yield moto_endpoint


@pytest.mark.parametrize("page_size", [1000, 2], ids=["one-page", "fan-out-and-paginate"])
def test_s3_prefix_lists_same_objects_as_local_folder(
    s3_tree: str, org_tree: Path, page_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With 2 keys a page, listing walks the folders in parallel and pages through each one,
    # the listing threads waiting on a one-page queue for the consumer.
    monkeypatch.setattr(pipeline.s3listing, "LIST_PAGE", page_size)
    monkeypatch.setattr(pipeline.s3listing, "QUEUE_ITEMS", 1)
    s3 = fake_s3(s3_tree)
    local = discover([str(org_tree)])
    remote = discover(["s3://trail-bucket/org"], s3=s3)

    assert _summary(remote, "s3://trail-bucket/org/") == _summary(local, f"{org_tree.resolve()}/")
    assert [o.uri for o in remote] == sorted(o.uri for o in remote)
    assert [o.size for o in remote] == [o.size for o in local]
    assert all(o.version and '"' not in o.version for o in remote)
    # The trailing slash and the bucket-wide listing give the same objects.
    assert discover(["s3://trail-bucket/org/"], s3=s3) == remote
    assert discover(["s3://trail-bucket"], s3=s3) == remote


def _counting(n: int, fail_at: int | None = None) -> Iterator[int]:
    for i in range(n):
        if i == fail_at:
            raise SourceError("listing broke off")
        yield i


def test_side_by_side_yields_every_item_of_every_producer() -> None:
    with ThreadPoolExecutor(3) as pool:
        got = list(
            pipeline.s3listing.side_by_side(pool, lambda k: _counting(int(k)), ["5", "0", "7"])
        )
    assert sorted(got) == sorted([*range(5), *range(7)])


def test_side_by_side_raises_a_producers_error() -> None:
    with ThreadPoolExecutor(2) as pool, pytest.raises(SourceError, match="broke off"):
        list(pipeline.s3listing.side_by_side(pool, lambda k: _counting(10, fail_at=3), ["a", "b"]))


def test_side_by_side_stopped_early_stops_its_producers() -> None:
    produced: list[int] = []

    def produce(key: str) -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    with ThreadPoolExecutor(2) as pool:
        items = pipeline.s3listing.side_by_side(pool, produce, ["a", "b"])
        assert next(items) in range(10_000)
        items.close()
    # the pool's threads have returned (the with block waited): bounded by the queue's size
    assert len(produced) <= 2 * (pipeline.s3listing.QUEUE_ITEMS + 2)


def test_s3_prefix_that_is_a_key_lists_that_object(s3_tree: str) -> None:
    s3 = fake_s3(s3_tree)
    [obj] = discover([f"s3://trail-bucket/org/{EVENTS_KEY}"], s3=s3)
    assert obj.uri == f"s3://trail-bucket/org/{EVENTS_KEY}"
    assert (obj.kind, obj.account_hint, obj.org_id_hint) == ("events", ACCT, ORG)


def test_s3_prefix_is_a_folder_not_a_string_prefix(s3_tree: str) -> None:
    s3 = fake_s3(s3_tree)
    s3.put_object(Bucket="trail-bucket", Key="org-copy/x.json", Body=b"{}")
    objects = discover(["s3://trail-bucket/org"], s3=s3)
    assert not any("org-copy" in o.uri for o in objects)


def test_fetch_downloads_byte_identical_files_into_staging(s3_tree: str, tmp_path: Path) -> None:
    s3 = fake_s3(s3_tree)
    objects = discover(["s3://trail-bucket/org"], s3=s3)
    staging = tmp_path / "staging"
    files = org_tree_files()

    got = list(fetch(objects, staging, s3=s3, workers=4))

    assert sorted(o.uri for o, _ in got) == [o.uri for o in objects]
    for obj, path in got:
        assert path.parent == staging
        assert path.read_bytes() == files[obj.uri.removeprefix("s3://trail-bucket/org/")]
        assert path.name.endswith(Path(obj.uri).name)
    assert sorted(p.name for p in staging.iterdir()) == sorted(p.name for _, p in got)


def test_fetch_keeps_keys_with_dot_dot_inside_staging(moto_endpoint: str, tmp_path: Path) -> None:  # noqa: F811
    files = {"../../escape.json": b"{}", "a/../../../etc/passwd.json": b"[]", "x/..": b"1"}
    _upload(moto_endpoint, "odd-keys", "", files)
    s3 = fake_s3(moto_endpoint)
    objects = [o for k in files if (o := _only(discover([f"s3://odd-keys/{k}"], s3=s3)))]
    staging = tmp_path / "staging"

    got = list(fetch(objects, staging, s3=s3))

    assert len(got) == len(files)
    for obj, path in got:
        assert path.resolve().parent == staging.resolve()
        assert path.read_bytes() == files[obj.uri.removeprefix("s3://odd-keys/")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["staging"]


def _only(objects: list[SourceObject]) -> SourceObject:
    [obj] = objects
    return obj


def test_fetch_keeps_downloads_in_flight_bounded(moto_endpoint: str, tmp_path: Path) -> None:  # noqa: F811
    files = {
        f"AWSLogs/{ACCT}/CloudTrail/{DAY}/f{i:03d}.json.gz": _records(ACCT, 1) for i in range(40)
    }
    _upload(moto_endpoint, "many", "", files)
    s3 = fake_s3(moto_endpoint)
    objects = discover(["s3://many"], s3=s3)
    staging = tmp_path / "staging"
    workers = 2
    seen = 0
    for _, path in fetch(objects, staging, s3=s3, workers=workers):
        # Started but not yet yielded: at most 2 * workers, plus the one in hand.
        assert len(list(staging.iterdir())) <= 2 * workers + 1
        path.unlink()
        seen += 1
    assert seen == len(files)


def test_fetch_stopped_early_leaves_no_thread_running(s3_tree: str, tmp_path: Path) -> None:
    s3 = fake_s3(s3_tree)
    objects = discover(["s3://trail-bucket/org"], s3=s3)
    stream = fetch(objects, tmp_path / "staging", s3=s3, workers=1)
    next(stream)
    stream.close()
    names = {p.name for p in (tmp_path / "staging").iterdir()}
    assert not any(n.endswith(".part") for n in names)


def test_fetch_of_object_changed_since_listing_raises(s3_tree: str, tmp_path: Path) -> None:
    s3 = fake_s3(s3_tree)
    [obj] = discover([f"s3://trail-bucket/org/{EVENTS_KEY}"], s3=s3)
    s3.put_object(Bucket="trail-bucket", Key=f"org/{EVENTS_KEY}", Body=b"rewritten")
    with pytest.raises(SourceObjectGone, match="changed after it was listed"):
        list(fetch([obj], tmp_path / "staging", s3=s3))


def test_fetch_of_deleted_object_raises_naming_the_key(s3_tree: str, tmp_path: Path) -> None:
    s3 = fake_s3(s3_tree)
    [obj] = discover([f"s3://trail-bucket/org/{EVENTS_KEY}"], s3=s3)
    s3.delete_object(Bucket="trail-bucket", Key=f"org/{EVENTS_KEY}")
    with pytest.raises(SourceObjectGone, match="EXAMPLEabcdef1234"):
        list(fetch([obj], tmp_path / "staging", s3=s3))
    assert not any((tmp_path / "staging").iterdir())


def test_missing_bucket_raises_source_error(moto_endpoint: str) -> None:  # noqa: F811
    s3 = fake_s3(moto_endpoint)
    with pytest.raises(SourceError, match="no-such-bucket.*does not exist"):
        discover(["s3://no-such-bucket/AWSLogs/"], s3=s3)


@pytest.mark.parametrize("prefix", ["nope", "nope/", "or", f"org/{EVENTS_KEY}.missing"])
def test_prefix_with_no_objects_raises_source_error(s3_tree: str, prefix: str) -> None:
    s3 = fake_s3(s3_tree)
    with pytest.raises(SourceError, match=f"s3://trail-bucket/{prefix}: no objects"):
        discover([f"s3://trail-bucket/{prefix}"], s3=s3)


def test_empty_bucket_lists_nothing(moto_endpoint: str) -> None:  # noqa: F811
    s3 = fake_s3(moto_endpoint)
    s3.create_bucket(Bucket="empty-bucket")
    assert discover(["s3://empty-bucket", "s3://empty-bucket/"], s3=s3) == []


@pytest.mark.parametrize("url", ["s3://", "s3:///AWSLogs/"])
def test_s3_url_without_bucket_raises_source_error(url: str) -> None:
    with pytest.raises(SourceError, match="names no bucket"):
        discover([url])


def test_invalid_bucket_name_raises_source_error(moto_endpoint: str) -> None:  # noqa: F811
    s3 = fake_s3(moto_endpoint)
    with pytest.raises(SourceError, match="not a valid S3 location"):
        discover(["s3://bad:bucket/x"], s3=s3)


def test_unreachable_endpoint_raises_source_error(s3_env: None) -> None:  # noqa: F811
    endpoint = f"http://127.0.0.1:{free_port()}"
    s3 = make_s3_client(endpoint_url=endpoint)
    with pytest.raises(SourceError, match=f"cannot connect to the S3 endpoint {endpoint}$"):
        discover(["s3://trail-bucket/org"], s3=s3)


def test_an_endpoint_url_that_is_not_a_url_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="--endpoint-url 'not a url': Invalid endpoint"):
        make_s3_client(endpoint_url="not a url")


def test_missing_credentials_raise_source_error(moto_server: MotoServer) -> None:  # noqa: F811
    s3 = make_s3_client(endpoint_url=moto_server.endpoint_url, region="us-east-1")
    with pytest.raises(SourceError, match="no AWS credentials") as info:
        discover(["s3://trail-bucket/org"], s3=s3)
    assert "AWS_PROFILE" in info.value.fix


def stub_client() -> Any:
    """An S3 client for botocore's Stubber: no request leaves it, and no retry hides an error."""
    return boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def fetch_refused(
    s3: Any, obj: SourceObject, code: str, message: str, tmp_path: Path
) -> list[tuple[SourceObject, SourceObjectUnreadable]]:
    """What fetch hands back when GetObject answers `code` (403) for `obj`."""
    handed: list[tuple[SourceObject, SourceObjectUnreadable]] = []
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", code, message, 403)
        stream = fetch(
            [obj], tmp_path / "staging", s3=s3, on_unreadable=lambda *a: handed.append(a)
        )
        assert list(stream) == []
    return handed


def test_access_denied_raises_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's server allows everything, so fake the 403 the way botocore reports it.
    s3 = stub_client()
    with Stubber(s3) as stub:
        stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
        with pytest.raises(SourceError, match="access denied to bucket locked") as info:
            discover(["s3://locked/AWSLogs/"], s3=s3)
    assert "s3:ListBucket" in info.value.fix


@pytest.mark.parametrize(
    ("code", "message", "denied", "why"),
    [
        ("AccessDenied", "Access Denied", True, "access denied reading it (the credentials may"),
        (
            "AccessDenied",
            "The ciphertext refers to a customer master key that does not exist, does not exist "
            "in this region, or you are not allowed to access.",
            True,
            "access denied by its SSE-KMS key",
        ),
        (
            "KMS.DisabledException",
            "key is disabled",
            True,
            "S3 could not decrypt it with its SSE-KMS key (KMS.DisabledException)",
        ),
        ("AllAccessDisabled", "All access to this object has been disabled", False, "access "),
    ],
    ids=["denied", "kms-denied", "kms-code", "whole-bucket"],
)
def test_fetch_tells_an_object_it_may_not_read_from_a_bucket_it_may_not_use(
    tmp_path: Path, code: str, message: str, denied: bool, why: str
) -> None:
    # GetObject refused for one object after the listing succeeded (an SSE-KMS key, a bucket
    # policy) is that object's problem, handed to on_unreadable; a bucket-wide refusal is not
    s3 = stub_client()
    obj = make_object(f"s3://locked/{EVENTS_KEY}", EVENTS_KEY, 10, "etag", named=False)
    if denied:
        [(got, error)] = fetch_refused(s3, obj, code, message, tmp_path)
        assert got == obj and str(error).startswith(f"s3://locked/{EVENTS_KEY}: {why}")
        assert isinstance(error, SourceObjectDenied) and "kms:Decrypt" in error.fix
    else:
        with pytest.raises(SourceError, match=f"{why}denied to bucket locked") as info:
            fetch_refused(s3, obj, code, message, tmp_path)
        assert not isinstance(info.value, SourceObjectDenied)
    if denied:  # without on_unreadable, it is an error of the run
        with Stubber(s3) as stub:
            stub.add_client_error("get_object", code, message, 403)
            with pytest.raises(SourceObjectDenied, match=re.escape(why)):
                list(fetch([obj], tmp_path / "staging", s3=s3))


def test_fetch_hands_back_an_archived_object_as_one_not_read_this_run(tmp_path: Path) -> None:
    s3 = stub_client()
    obj = make_object(f"s3://trail/{EVENTS_KEY}", EVENTS_KEY, 10, "etag", named=False)
    message = "The operation is not valid for the object's storage class"
    [(got, error)] = fetch_refused(s3, obj, "InvalidObjectState", message, tmp_path)
    assert got == obj and isinstance(error, SourceObjectArchived)
    assert str(error) == (
        f"s3://trail/{EVENTS_KEY}: archived (S3 Glacier Flexible Retrieval or Deep Archive, or an "
        "Intelligent-Tiering archive tier) and not restored: GetObject cannot read it"
    )
    with Stubber(s3) as stub:  # without on_unreadable, it is an error of the run
        stub.add_client_error("get_object", "InvalidObjectState", message, 403)
        with pytest.raises(SourceObjectArchived):
            list(fetch([obj], tmp_path / "staging", s3=s3))


def test_importing_sources_touches_no_network() -> None:
    code = (
        "import socket\n"
        "def boom(*a, **k): raise AssertionError('network touched on import')\n"
        "socket.socket.connect = boom\n"
        "socket.create_connection = boom\n"
        "import pipeline.sources\n"
        "assert pipeline.sources.discover([]) == []\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


SINCE = dt.date(2026, 11, 2)
TRAIL = "AWSLogs/o-exampleorgid/123456789012/CloudTrail"


@pytest.mark.parametrize(
    ("folder", "before"),
    [
        (f"{TRAIL}/us-east-1/2026/11/01", True),
        (f"{TRAIL}/us-east-1/2026/11/02", False),
        (f"{TRAIL}/us-east-1/2026/11/03/", False),
        (f"{TRAIL}/us-east-1/2026/10", True),  # a whole month before
        (f"{TRAIL}/us-east-1/2026/11", False),  # holds 11/02 and later
        (f"{TRAIL}/us-east-1/2025", True),
        (f"{TRAIL}/us-east-1/2026", False),
        (f"/data/{TRAIL}-Digest/us-gov-west-1/2026/11/01", True),
        (f"{TRAIL}-Insight/ap-southeast-2/2026/11/01", True),
        (f"{TRAIL}/us-east-1", False),  # a region holds every day
        (TRAIL, False),
        ("exports/2026/11/01", False),  # not a trail's layout: always read
        ("AWSLogs/123456789012/CloudTrail/not-a-region/2026/11/01", False),
    ],
)
def test_delivered_before(folder: str, before: bool) -> None:
    assert delivered_before(folder, SINCE) is before


@pytest.mark.parametrize(
    ("prefix", "start"),
    [
        (f"org/{TRAIL}/us-east-1/2026/", f"org/{TRAIL}/us-east-1/2026/11/02"),
        (f"{TRAIL}/eu-west-1/2026/11/", f"{TRAIL}/eu-west-1/2026/11/02"),
        (f"{TRAIL}/eu-west-1/2027/", f"{TRAIL}/eu-west-1/2026/11/02"),  # harmless: sorts before
        (f"{TRAIL}/us-east-1/", None),  # a region may hold keys outside the date folders
        (f"{TRAIL}/", None),  # above the regions: several date sequences interleave
        ("exports/", None),
    ],
)
def test_first_key_since(prefix: str, start: str | None) -> None:
    assert first_key_since(prefix, SINCE) == start
