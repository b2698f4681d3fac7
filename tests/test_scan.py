"""The compiled splitter of delivery files (pipeline/scan.py, pipeline/_scan.c).

Its contract: for a document it accepts, each record's text is DuckDB's own text of that record
(`json_extract(doc, '$.Records[*]')`), directly or once DuckDB rewrites it (flagged records);
a document DuckDB would read otherwise (another shape, invalid JSON) is declined, for DuckDB to
read. And a lake ingested with it is the lake ingested without it, row for row.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import ACCOUNT, delivery_key, record, write_bytes, write_delivery_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import lake as lakefs
from pipeline import scan
from pipeline.ingest import ingest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
REAL = SHARED / "fixtures" / "real"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "AWSLogs"


def test_the_splitter_is_built() -> None:
    assert scan.available(), (
        f"{scan.LIBRARY} is missing: install a C compiler (gcc) and reinstall (make install-dev)"
    )


def duckdb_records(doc: bytes) -> list[str] | None:
    """DuckDB's texts of the document's records, or None when it cannot read the document."""
    con = duckdb.connect()
    try:
        row = con.execute(
            "select cast(json_extract(cast($d as varchar), '$.Records[*]') as varchar[])",
            {"d": doc.decode("utf-8", "surrogateescape")},
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return None if row is None else list(row[0] or [])


def rewritten(text: str) -> str:
    con = duckdb.connect()
    try:
        row = con.execute("select cast(json($t) as varchar)", {"t": text}).fetchone()
        assert row is not None
        return str(row[0])
    finally:
        con.close()


def split_texts(doc: bytes) -> list[tuple[str, bool]] | None:
    s = scan.split_document(doc)
    if s is None:
        return None
    data = s.data[: s.used].tobytes()
    return [
        (data[s.offsets[i] : s.offsets[i + 1]].decode(), bool(s.flags[i] & 1))
        for i in range(s.count)
    ]


# (document, the texts and flags the splitter gives, or None: declined)
CASES: list[tuple[bytes, list[tuple[str, bool]] | None]] = [
    (b'{"Records":[{"a":1},{"b":"x"}]}', [('{"a":1}', False), ('{"b":"x"}', False)]),
    (b'{"Records":[]}', []),
    (b' \n{ "Records" : [ {"a":1} ,\n{"b":2} ] }\n', [('{"a":1}', False), ('{"b":2}', False)]),
    # blanks inside a record, escapes, numbers DuckDB writes otherwise: flagged
    (b'{"Records":[{"a": 1}]}', [('{"a": 1}', True)]),
    (b'{"Records":[{"a":"x\\/y"}]}', [('{"a":"x\\/y"}', True)]),
    (b'{"Records":[{"a":"\\u0041\\"\\n"}]}', [('{"a":"\\u0041\\"\\n"}', True)]),
    (b'{"Records":[{"a":1.5e3}]}', [('{"a":1.5e3}', True)]),
    (b'{"Records":[{"a":-0}]}', [('{"a":-0}', True)]),
    (b'{"Records":[{"a":1234567890123456789}]}', [('{"a":1234567890123456789}', True)]),
    (
        b'{"Records":[{"a":-123,"b":[true,false,null]}]}',
        [('{"a":-123,"b":[true,false,null]}', False)],
    ),
    # duplicate keys are kept by both
    (b'{"Records":[{"a":1,"a":2}]}', [('{"a":1,"a":2}', False)]),
    # declined: another shape, more than Records, invalid JSON, non-ASCII, surrogates, depth
    (b'[{"a":1}]', None),
    (b'{"Records":[{"a":1}],"x":1}', None),
    (b'{"x":1,"Records":[{"a":1}]}', None),
    (b'{"Records":[1,2]}', None),
    (b'{"Records":{"a":1}}', None),
    (b'{"Records":[{"a":1}]}{"Records":[]}', None),
    (b'{"Records":[{"a":1}]', None),
    (b'{"Records":[{"a":tru}]}', None),
    (b'{"Records":[{"a":01}]}', None),
    (b'{"Records":[{"a":1.}]}', None),
    (b'{"Records":[{"a":"x\\q"}]}', None),
    (b'{"Records":[{"a":"\x01"}]}', None),
    (b'{"Records":[{"a":"\xc3\xa9"}]}', None),
    (b'{"Records":[{"a":"\\ud83d\\ude00"}]}', None),
    (b'{"Records":[{"a":' + b"[" * 300 + b"]" * 300 + b"}]}", None),
    (b"\xef\xbb\xbf" + b'{"Records":[]}', None),
    (b"", None),
]


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_split_cases(doc: bytes, expected: list[tuple[str, bool]] | None) -> None:
    assert split_texts(doc) == expected
    if expected is not None:
        # what the ingest stores of each: DuckDB's own text
        theirs = duckdb_records(doc)
        assert theirs is not None
        assert [rewritten(t) if flag else t for t, flag in expected] == theirs


# a byte sequence at a given offset of a string: flagged (the record's text is DuckDB's to
# rewrite), not, or None: declined. The splitter scans sixteen bytes at a time where it can:
# each kind of byte that ends a plain run, at every offset of two such blocks and past them
_AT_OFFSET: list[tuple[bytes, bool | None]] = [
    (b"", False),  # the string ends there
    (b'\\"', True),  # escapes
    (b"\\\\", True),
    (b"\\u0041", True),
    (b"\xc3\xa9", None),  # not ASCII
    (b"\x1f", None),  # a control character
    (b"\x7f", False),  # DEL is plain ASCII in JSON
]


@pytest.mark.parametrize("offset", range(40))
@pytest.mark.parametrize(("odd", "flagged"), _AT_OFFSET)
def test_a_long_string_is_scanned_as_a_short_one(
    offset: int, odd: bytes, flagged: bool | None
) -> None:
    text = b"x" * offset + odd + (b"y" * 20 if odd else b"")
    doc = b'{"Records":[{"a":"' + text + b'","b":1}]}'
    mine = split_texts(doc)
    if flagged is None:
        assert mine is None
        return
    assert mine == [('{"a":"' + text.decode() + '","b":1}', flagged)]
    assert [rewritten(t) if flag else t for t, flag in mine] == duckdb_records(doc)


# JSON values with what makes records differ: escapes, unicode, numbers of every form, blanks
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12),
    st.text(max_size=6),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


def _dump(value: Any, blank: bool, ascii_only: bool) -> str:
    return json.dumps(
        value, ensure_ascii=ascii_only, separators=(", ", ": ") if blank else (",", ":")
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.dictionaries(st.text(max_size=5), _values, max_size=4), max_size=4),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.booleans(),
)
def test_split_agrees_with_duckdb(
    recs: list[dict[str, Any]], blanks: list[bool], ascii_only: bool
) -> None:
    doc = (
        '{"Records":['
        + ",".join(_dump(r, blanks[i % 4], ascii_only) for i, r in enumerate(recs))
        + "]}"
    ).encode()
    mine = split_texts(doc)
    theirs = duckdb_records(doc)
    if mine is None:
        return  # declined: DuckDB reads it, whatever it makes of it
    assert theirs is not None, "accepted a document DuckDB cannot read"
    assert [rewritten(t) if flag else t for t, flag in mine] == theirs


def _ingest(source: Path, lake: Path, *, compiled: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    # one salt for both lakes: the token hashes are then equal too
    (lake / "_state").mkdir(parents=True)
    (lake / "_state" / "token_salt").write_text("0123456789abcdef")
    with monkeypatch.context() as m:
        if not compiled:
            m.setattr(scan, "_library", lambda: None)
        return ingest([str(source)], lake)


def _table_rows(lake: Path, glob: str, drop: set[str]) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        rel = con.sql(f"select * from read_parquet('{lake}/{glob}', hive_partitioning=false)")
        cols = [c for c in rel.columns if c not in drop]
        return sorted(con.sql(f"select {', '.join(cols)} from rel").fetchall(), key=repr)
    finally:
        con.close()


def _odd_files(root: Path) -> Path:
    """Delivery files of every kind the splitter declines or flags, and ones it reads."""
    key = delivery_key(ACCOUNT)
    write_delivery_file(root / key, [record(), record(userAgent='a\\b \u00e9 "q"')])
    write_delivery_file(root / key.replace("EXAMPLE", "PRETTY"), [record(), record()], pretty=True)
    write_bytes(
        root / key.replace("EXAMPLE", "FLOATS").removesuffix(".gz"),
        b'{"Records":['
        + json.dumps(record(additionalEventData={"bytes": 1.5e3, "n": -0}))
        .replace("-0}", "-0 }")
        .encode()
        + b"]}",
    )
    write_bytes(
        root / key.replace("EXAMPLE", "TRUNCATED").removesuffix(".gz"), b'{"Records":[{"eventID'
    )
    write_bytes(
        root / key.replace("EXAMPLE", "EXTRAKEY").removesuffix(".gz"),
        b'{"Records":[' + json.dumps(record()).encode() + b'],"x":1}',
    )
    write_bytes(
        root / key.replace("EXAMPLE", "NOTOBJ").removesuffix(".gz"),
        b'{"Records":[' + json.dumps(record()).encode() + b',"text",7]}',
    )
    return root


@pytest.mark.parametrize("source", ["sample", "real", "odd"])
def test_lake_is_the_same_with_and_without_the_splitter(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "real" and not REAL.is_dir():
        pytest.fail(f"{REAL} is absent: clone the repository beside ../shared")
    src = {"sample": SAMPLE, "real": REAL, "odd": _odd_files(tmp_path / "odd")}[source]
    if source != "odd":
        src = Path(shutil.copytree(src, tmp_path / "in"))
    on = _ingest(src, tmp_path / "on", compiled=True, monkeypatch=monkeypatch)
    off = _ingest(src, tmp_path / "off", compiled=False, monkeypatch=monkeypatch)
    assert on.records_stored > 0
    assert on.reconciles and off.reconciles
    for field in (
        "records_read",
        "records_stored",
        "records_duplicate",
        "records_rejected",
        "conflicts",
        "files_read",
        "files_quarantined",
    ):
        assert getattr(on, field) == getattr(off, field), field
    drop = {"ingest_run"}
    assert _table_rows(tmp_path / "on", "events/**/*.parquet", drop) == _table_rows(
        tmp_path / "off", "events/**/*.parquet", drop
    )
    q_on = sorted((tmp_path / "on" / "quarantine").rglob("*.parquet"))
    q_off = sorted((tmp_path / "off" / "quarantine").rglob("*.parquet"))
    assert len(q_on) == len(q_off)
    if q_on:
        assert _table_rows(tmp_path / "on", "quarantine/**/*.parquet", drop) == _table_rows(
            tmp_path / "off", "quarantine/**/*.parquet", drop
        )


# Records built from the fields the lake types: objects written as (key, value) pairs, so a key
# can repeat (json_transform takes the first) and a parent can be a string, list or null
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from(
        [
            "true",
            "false",
            "TRUE",
            "",
            "2026-11-01T10:00:00Z",
            "20261101T100000Z",
            "2026-02-30T10:00:00Z",
            "2024-02-29T23:59:59Z",
            "2026-11-01T10:00:00.5Z",
            "20261301T100000Z",
            "123456789012",
            "sts.amazonaws.com",
            "AwsCloudTrailInsight",
            "x",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8),
    st.lists(st.integers(0, 9), max_size=2),
)
_KEYS = sorted(
    {part for path, _ in scan.FIELDS for part in path.split(".")} | {"other", "sessionToken"}
)


def _object(draw: Any, depth: int) -> str:
    pairs = []
    for _ in range(draw(st.integers(0, 6 if depth == 0 else 3))):
        key = draw(st.sampled_from(_KEYS))
        if depth < 4 and draw(st.booleans()):
            value = _object(draw, depth + 1)
        else:
            value = json.dumps(draw(_leaf), separators=(",", ":"))
        pairs.append(f"{json.dumps(key)}:{value}")
    return "{" + ",".join(pairs) + "}"


@st.composite
def _records(draw: Any) -> list[str]:
    base = record(eventSource="s3.amazonaws.com", eventName="GetObject")
    out = []
    for _ in range(draw(st.integers(1, 3))):
        text = _object(draw, 0)
        if draw(st.booleans()):  # a CloudTrail-like record with random fields added
            extra = text[1:-1]
            text = json.dumps(base, separators=(",", ":"))[:-1] + ("," + extra if extra else "")
            text += "}"
        out.append(text)
    return out


def _staged_rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, str]) -> list[Any]:
    return sorted(
        con.execute(f"select * exclude (ingest_run) from ({sql})", params).fetchall(), key=repr
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records())
def test_fields_are_typed_as_duckdb_types_the_text(texts: list[str]) -> None:
    from pipeline import staging

    doc = ('{"Records":[' + ",".join(texts) + "]}").encode()
    # with the salt, the splitter hashes the session tokens of what it types (the base record
    # holds one, and sessionToken keys are drawn anywhere)
    split = scan.split_document(doc, "f.json", salt="s")
    assert split is not None
    con = duckdb.connect()
    lakefs.configure(con, memory_limit="1GB")  # UTC, as the ingest's connection
    con.execute(
        "create table batch_files as select 'f.json' as local_path, '/src/f.json' as source_uri,"
        " null::varchar as account_hint"
    )
    params = {"salt": "s", "run": "r"}
    # the plain records typed by pyarrow, the others by DuckDB from their fields or text
    mine = []
    for typed in staging._type_scanned(con, scan._table([split]), "s", "r"):
        con.register("typed", typed)
        mine += _staged_rows(con, "select * from typed", {})
        con.unregister("typed")
    # DuckDB alone: every record's text read and typed by stg_records_parsed
    con.execute("create table doc as select cast($d as varchar) as doc", {"d": doc.decode()})
    theirs_sql = staging.typing_sql(
        "select 'f.json' as filename, 'records' as shape,"
        " unnest(cast(json_extract(doc, '$.Records[*]') as varchar[])) as raw_text,"
        " null::varchar as read_problem, null::bigint as line,"
        " generate_subscripts(cast(json_extract(doc, '$.Records[*]') as varchar[]), 1) - 1"
        " as position from doc"
    )
    assert sorted(mine, key=repr) == _staged_rows(con, theirs_sql, params)


def test_room_grows_for_small_records_and_for_hashed_tokens() -> None:
    # room is made for a record per 512 bytes, then doubled; a token shorter than its hash
    # makes the text longer than the document (a buffer exactly the document's size)
    import hashlib

    tiny = b'{"Records":[' + b",".join([b"{}"] * 5000) + b"]}"
    chunk = scan._Chunk(0)
    assert chunk.add("tiny", tiny)
    assert chunk.count == 5000 and chunk.data[: chunk.used].tobytes() == b"{}" * 5000

    tokens = b'{"Records":[' + b",".join([b'{"sessionToken":"a"}'] * 2000) + b"]}"
    chunk = scan._Chunk(0)
    assert chunk.add("tokens", tokens, b"salt")
    hashed = '{"sessionToken":"sha256:' + hashlib.sha256(b"salta").hexdigest() + '"}'
    assert chunk.count == 2000
    assert chunk.data[: chunk.used].tobytes().decode() == hashed * 2000
    assert set(chunk.flags[:2000].tolist()) == {scan._FLAG_HASHED}


def test_a_gzip_file_holding_more_than_planned_goes_to_duckdb_not_into_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the gzip trailer's ISIZE is the size modulo 4 GiB: a few MB of deflated blanks inside
    # Records planned as a small file and was gunzipped whole (8.6 GB of memory for 4 GiB, a
    # MemoryError traceback under a container's limit, every night again)
    recs = [record(), record()]
    path = write_delivery_file(tmp_path / "src" / delivery_key(ACCOUNT), recs)
    gunzipped = len(scan._read(str(path), 1 << 20) or b"")
    assert gunzipped > 100
    assert scan._read(str(path), gunzipped) is not None
    assert scan._read(str(path), gunzipped - 1) is None  # never past what was planned

    # planned as a wrapped ISIZE would plan it: DuckDB reads the file, nothing is lost
    import pipeline.ingest as ingest_mod
    from pipeline import badfiles, slicing, staging

    # every module that plans with the size sees the wrapped one, DuckDB's buffer too
    for module in (ingest_mod, staging, badfiles, slicing):
        monkeypatch.setattr(module, "uncompressed_size_cached", lambda p: 64)
    summary = ingest([str(tmp_path / "src")], tmp_path / "lake")
    assert (summary.records_read, summary.records_stored) == (2, 2)
