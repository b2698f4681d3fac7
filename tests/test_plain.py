"""The plain records typed with pyarrow (pipeline/plain.py) give the rows DuckDB's typing gives."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import lake as lakefs
from pipeline import plain, queries, scan, staging
from tests.conftest import DROP, record

SQL = Path(__file__).resolve().parent.parent / "sql" / "ingest"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "AWSLogs"


@functools.cache
def _connect() -> duckdb.DuckDBPyConnection:
    """One connection set up as the ingest's (UTC, its settings), with the file's row."""
    con = duckdb.connect()
    lakefs.configure(con, memory_limit="1GB")
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        "create table batch_files as select * from (values ('f.json', '/src/f.json', null),"
        " ('g.json', '/src/g.json', null)) as t(local_path, source_uri, account_hint)"
    )
    return con


def _rows(con: duckdb.DuckDBPyConnection, tables: list[pa.Table]) -> list[Any]:
    out: list[Any] = []
    for table in tables:
        con.register("typed", table)
        out += con.execute("select * exclude (ingest_run) from typed").fetchall()
        con.unregister("typed")
    return sorted(out, key=repr)


def _document(texts: list[str], name: str = "f.json") -> scan._Chunk:
    split = scan.split_document(('{"Records":[' + ",".join(texts) + "]}").encode(), name, "s")
    assert split is not None
    return split


def _both_ways(texts: list[str]) -> tuple[list[Any], list[Any], int]:
    """The document's records typed as the ingest types them (plain ones by pyarrow), and all
    by DuckDB; and how many were plain."""
    return _compared(scan._table([_document(texts)]))


def _compared(records: pa.Table) -> tuple[list[Any], list[Any], int]:
    con = _connect()
    mixed = staging._type_scanned(con, records, "s", "r")
    plain_count = int(pc.sum(records["plain"]).as_py() or 0)
    # DuckDB alone: the same statements, nothing marked plain
    nothing_plain = records.set_column(
        records.schema.get_field_index("plain"), "plain", pa.repeat(False, records.num_rows)
    )
    con.register("scanned_records", nothing_plain)
    alone = [
        con.sql(sql, params=params).to_arrow_table()
        for sql, params in (
            (staging.fields_typing_sql(queries.body("ingest/stg_scanned_records")), {"run": "r"}),
            (
                staging.typing_sql(queries.body("ingest/stg_scanned_texts")),
                {"salt": "s", "run": "r"},
            ),
        )
    ]
    return _rows(con, mixed), _rows(con, alone), plain_count


def _text(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


_TIMES = [
    "2026-11-01T10:00:00Z",
    "1969-07-20T20:17:40Z",
    "2024-02-29T23:59:59Z",
    "2023-02-29T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-13-01T10:00:00Z",
    "2026-00-10T10:00:00Z",
    "2026-11-00T10:00:00Z",
    "2026-11-31T10:00:00Z",
    "2026-11-01T24:00:00Z",
    "2026-11-01T10:00:60Z",
    "2026-11-01T10:00:00.123Z",
    "2026-11-01T10:00:00+01:00",
    "2026-11-01 10:00:00 UTC",
    "2026-1-1T1:00:00Z",
    " 2026-11-01T10:00:00Z",
    "0000-01-01T00:00:00Z",
    "0999-12-31T23:59:59Z",
    "9999-12-31T23:59:59Z",
    "20261101T100000Z",
    "20260230T100000Z",
    "2026-11-01",
    "epoch",
    "",
]
_AWKWARD: list[Any] = [
    *_TIMES,
    *["true", "false", "TRUE", "True", "yes", "1", "t"],
    *["123456789012", "012345678901", "12345678901", "unknown", "a/b"],
    "__HIVE_DEFAULT_PARTITION__",
    *["AwsCloudTrailInsight", "Insight", "Management", "AwsApiCall"],
    *["s3.amazonaws.com", *plain.CREDENTIAL_SOURCES, "STS.amazonaws.com"],
    *[True, False, 0, 1, -1, 1.5, DROP, None, {"a": 1}, ["x"]],
]
_ANY = st.sampled_from(_AWKWARD)
_TOP = [
    "eventTime",
    "readOnly",
    "managementEvent",
    "sessionCredentialFromConsole",
    "recipientAccountId",
    "eventSource",
    "eventName",
    "eventType",
    "eventCategory",
    "eventID",
]
_CONTEXT = ["creationDate", "mfaAuthenticated"]


def _activity_record(
    changes: dict[str, Any], context: dict[str, Any], key: str, root: Any = DROP
) -> str:
    base = {
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "requestParameters": {"bucketName": "example-bucket"},
        "responseElements": None,
    }
    rec = record(**{**base, **changes})
    attributes = {"creationDate": "2026-11-01T09:00:00Z", "mfaAuthenticated": "false"}
    for name, value in context.items():
        if value is DROP:
            attributes.pop(name, None)
        else:
            attributes[name] = value
    rec["userIdentity"] = {
        "type": "AssumedRole",
        "principalId": "AROACKCEVSQ6C2EXAMPLE:s",
        "arn": "arn:aws:sts::123456789012:assumed-role/example-role/s",
        "accountId": "123456789012",
        "accessKeyId": key,
        "sessionContext": {"attributes": attributes},
    }
    if root is not DROP:
        rec["userIdentity"]["sessionContext"]["assumedRoot"] = root
    return _text(rec)


def test_each_awkward_value_of_each_field_is_typed_as_duckdb_types_it() -> None:
    """Every field the plain test reads, given each awkward value (or dropped) in turn: one
    record each, all in one document."""
    texts = [
        _activity_record({field: value}, {}, "ASIAIOSFODNN7EXAMPLE")
        for field in _TOP
        for value in _AWKWARD
    ]
    texts += [
        _activity_record({}, {field: value}, "ASIAIOSFODNN7EXAMPLE")
        for field in _CONTEXT
        for value in _AWKWARD
    ]
    texts += [_activity_record({}, {}, "k", root=value) for value in _AWKWARD]
    # the credential services' records, with every blob those services' columns read from
    blobs = {
        "requestParameters": {"roleArn": "arn:aws:iam::123456789012:role/r", "identityId": "i"},
        "responseElements": {"credentials": {"accessKeyId": "ASIAIOSFODNN7EXAMPLE"}},
        "additionalEventData": {"MFAUsed": "Yes", "LoginTo": "https://console.aws.amazon.com"},
        "serviceEventDetails": {"account_id": "123456789012", "role_name": "r"},
    }
    texts += [
        _activity_record({"eventSource": source, **blobs}, {}, "k")
        for source in plain.CREDENTIAL_SOURCES
    ]
    texts += [_activity_record({}, {}, key) for key in ("", "ASIAIOSFODNN7EXAMPLE")]
    texts += [
        _text({**json.loads(_activity_record({}, {}, "k")), "userIdentity": {"type": "Root"}})
    ]
    mixed, alone, plain_count = _both_ways(texts)
    assert mixed == alone
    assert 0 < plain_count < len(texts)


@st.composite
def _activity(draw: Any) -> str:
    """An activity record with some of the fields the plain test reads replaced together."""
    return _activity_record(
        draw(st.dictionaries(st.sampled_from(_TOP), _ANY, max_size=3)),
        draw(st.dictionaries(st.sampled_from(_CONTEXT), _ANY, max_size=2)),
        draw(st.sampled_from(["ASIAIOSFODNN7EXAMPLE", ""])),
        draw(_ANY),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_activity(), min_size=1, max_size=4))
def test_plain_records_are_typed_as_duckdb_types_them(texts: list[str]) -> None:
    mixed, alone, _ = _both_ways(texts)
    assert mixed == alone


def test_plain_records_are_the_common_case_and_match_duckdb() -> None:
    """On CloudTrail-shaped records most rows are plain, and each column is the same."""
    texts = [
        _text(
            record(
                eventSource="s3.amazonaws.com",
                eventName="GetObject",
                requestParameters={"bucketName": "example-bucket"},
                responseElements=None,
            )
        )
        for _ in range(20)
    ]
    texts += [_text(record()) for _ in range(3)]  # AssumeRole: DuckDB's
    texts += [_text(record(eventID=DROP, eventSource="ec2.amazonaws.com"))]  # generated id
    # a creation date in the basic form
    texts += [_activity_record({}, {"creationDate": "20261101T090000Z"}, "k")]
    mixed, alone, plain_count = _both_ways(texts)
    assert plain_count == 22
    assert mixed == alone
    assert len(mixed) == len(texts)


def test_every_ordinary_record_of_the_sample_is_plain() -> None:
    """The pyarrow path carries the bulk of a trail: of the sample's records the splitter typed
    from their fields, all but the credential services' are plain."""
    files = sorted(str(p) for p in SAMPLE.rglob("*.json.gz") if "Digest" not in str(p))
    records = scan.split_files(files, "salt").records
    assert records is not None
    ordinary = pc.and_(
        pc.invert(records["route"]),
        pc.invert(
            pc.is_in(
                records["eventSource"],
                value_set=pa.array(plain.CREDENTIAL_SOURCES, pa.large_string()),
            )
        ),
    )
    is_plain = records["plain"]
    assert pc.sum(ordinary).as_py() > records.num_rows // 2
    assert pc.all(pc.equal(is_plain, ordinary)).as_py()


def test_credential_sources_are_those_the_sql_parses() -> None:
    """A source whose blobs stg_records_detailed parses is never plain."""
    text = (SQL / "stg_records_detailed.sql").read_text()
    first_list = re.search(r"s\.eventSource in \(([^)]*)\)", text)
    assert first_list is not None
    assert set(re.findall(r"'([^']+)'", first_list.group(1))) == set(plain.CREDENTIAL_SOURCES)
    events = (SQL / "stg_events.sql").read_text()
    for source in re.findall(r"s\.eventSource = '([^']+)'", text + events):
        assert source in plain.CREDENTIAL_SOURCES


def test_the_builder_knows_every_column_stg_events_gives() -> None:
    schema = pa.schema([(name, pa.string()) for name in ("event_id", "a_new_column")])
    records = scan._table([scan.split_document(b'{"Records":[{"eventID":"e"}]}', "f.json")])
    with pytest.raises(LookupError, match="a_new_column"):
        plain.typed(records, {"f.json": "/src/f.json"}, "r", schema)


def test_plain_rows_name_their_file_and_hash_the_blanked_text() -> None:
    """Two files split by two threads (two chunks): each plain row names its own file; a
    plain record holding a session token (a service outside the credential ones) is typed from
    its hashed text, its content hash the MD5 of its text with the token's contents left out."""
    token = {"responseElements": {"credentials": {"sessionToken": "IQoJb3JpZ2luEXAMPLE"}}}
    first = [_activity_record({}, {}, "k") for _ in range(3)]
    second = [_activity_record(token, {}, "k"), _activity_record({}, {}, "k")]
    records = scan._table([_document(first, "f.json"), _document(second, "g.json")])
    assert pc.all(records["plain"]).as_py()
    mixed, alone, plain_count = _compared(records)
    assert plain_count == 5 and mixed == alone
    typed = staging._type_scanned(_connect(), records, "s", "r")[-1]
    by_text = dict(zip(typed["raw"].to_pylist(), typed.to_pylist(), strict=True))
    originals = [(text, "/src/f.json") for text in first] + [
        (text, "/src/g.json") for text in second
    ]
    for text, uri in originals:
        blanked = re.sub(r'"sessionToken":"[^"]*"', '"sessionToken":""', text)
        rows = [
            row
            for raw, row in by_text.items()
            if re.sub(r'"sessionToken":"sha256:[0-9a-f]{64}"', '"sessionToken":""', raw) == blanked
        ]
        assert len(rows) == 1, text
        assert rows[0]["source_uri"] == uri
        assert rows[0]["record_hash"] == hashlib.md5(blanked.encode()).hexdigest()
    hashed = [raw for raw in by_text if "sha256:" in raw]
    assert len(hashed) == 1 and "IQoJb3JpZ2luEXAMPLE" not in hashed[0]


def test_a_library_built_from_another_splitter_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An editable install not rebuilt since _scan.c changed: its functions take other
    arguments, so the ingest reads with DuckDB until it is rebuilt."""
    scan._library.cache_clear()
    monkeypatch.setattr(scan, "ABI_VERSION", scan.ABI_VERSION + 1)
    try:
        assert not scan.available()
    finally:
        monkeypatch.undo()
        scan._library.cache_clear()
    assert scan.available()
