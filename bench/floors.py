"""The measured baselines, each run by `bench.run` as its own subprocess.

    python -m bench.floors ingest-floor FILELIST
    python -m bench.floors duckdb-read-json CORPUS OUT.parquet
    python -m bench.floors python-arrow FILELIST OUT.parquet
    python -m bench.floors compiled-arrow FILELIST OUT_DIR
    python -m bench.floors analysis-floor LAKE
    python -m bench.floors analysis-scan LAKE

* ingest-floor: what one thread needs merely to gunzip and JSON-parse the delivery files
  (zlib + orjson.loads), touching nothing else. No ingest can do less work in one process.
* duckdb-read-json: the alternative a user tries first: DuckDB's `read_json` with its
  auto-inferred schema over the trail's glob, `union_by_name`, `Records` unnested into columns,
  written to one zstd Parquet file.
* python-arrow: a plain single-process Python writer: orjson, per-record dict lookups of the
  key columns into lists, pyarrow Table, Parquet (zstd). Narrower than the lake (no lossless raw
  text, no dedupe, no partitions), so it flatters that approach.
* compiled-arrow: a prototype of the compiled single pass the ingest target needs
  (`bench/compiled_ingest.py`): gunzip, one C pass per document into Arrow buffers (lossless
  raw text, MD5, 64 fields), pyarrow typing, zstd Parquet per partition, two processes. It
  leaves out redaction, dedupe, the other shapes, quarantine and the manifest: a lower bound.
* analysis-floor: one DuckDB scan of the key columns the analysis reads (count distinct of the
  used and the issued access key per account), over the lake, with the Hive types pinned.
* analysis-scan: one DuckDB scan of all the columns `int_events` reads (reference row).

FILELIST is a text file with one path per line (the corpus's delivery files, digests excluded).
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path


def _paths(filelist: str) -> list[str]:
    return [line for line in Path(filelist).read_text().splitlines() if line]


def ingest_floor(filelist: str) -> int:
    import orjson

    records = 0
    for path in _paths(filelist):
        doc = orjson.loads(zlib.decompress(Path(path).read_bytes(), 31))
        records += len(doc["Records"])
    print(records)
    return 0


def duckdb_read_json(corpus: str, out: str) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # The trail's own layout: AWSLogs/o-ORG/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz
    # (CloudTrail-Digest folders do not match).
    glob = str(Path(corpus, "AWSLogs", "*", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
    con.execute(
        "COPY (SELECT unnest(r) FROM (SELECT unnest(Records) AS r FROM read_json($glob, "
        "union_by_name = true, maximum_object_size = 268435456))) "
        f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)",
        {"glob": glob},
    )
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
    print(n[0] if n else 0)
    return 0


# (output column, path into the record) for the key columns the analysis reads.
_KEY_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("event_id", ("eventID",)),
    ("event_time", ("eventTime",)),
    ("event_source", ("eventSource",)),
    ("event_name", ("eventName",)),
    ("event_type", ("eventType",)),
    ("aws_region", ("awsRegion",)),
    ("source_ip_address", ("sourceIPAddress",)),
    ("user_agent", ("userAgent",)),
    ("error_code", ("errorCode",)),
    ("request_id", ("requestID",)),
    ("shared_event_id", ("sharedEventID",)),
    ("recipient_account_id", ("recipientAccountId",)),
    ("user_type", ("userIdentity", "type")),
    ("user_principal_id", ("userIdentity", "principalId")),
    ("user_arn", ("userIdentity", "arn")),
    ("user_account_id", ("userIdentity", "accountId")),
    ("user_access_key_id", ("userIdentity", "accessKeyId")),
    ("user_name", ("userIdentity", "userName")),
    ("user_invoked_by", ("userIdentity", "invokedBy")),
    ("session_issuer_arn", ("userIdentity", "sessionContext", "sessionIssuer", "arn")),
    (
        "session_mfa_authenticated",
        ("userIdentity", "sessionContext", "attributes", "mfaAuthenticated"),
    ),
    ("session_creation_date", ("userIdentity", "sessionContext", "attributes", "creationDate")),
    ("session_source_identity", ("userIdentity", "sessionContext", "sourceIdentity")),
    ("req_role_arn", ("requestParameters", "roleArn")),
    ("req_role_session_name", ("requestParameters", "roleSessionName")),
    ("req_serial_number", ("requestParameters", "serialNumber")),
    ("issued_access_key_id", ("responseElements", "credentials", "accessKeyId")),
    ("expiration_raw", ("responseElements", "credentials", "expiration")),
    ("assumed_role_arn", ("responseElements", "assumedRoleUser", "arn")),
    ("saml_subject", ("responseElements", "subject")),
    ("saml_issuer", ("responseElements", "issuer")),
    ("oidc_subject", ("responseElements", "subjectFromWebIdentityToken")),
    ("oidc_provider", ("responseElements", "provider")),
    ("console_login_result", ("responseElements", "ConsoleLogin")),
    ("console_mfa_used", ("additionalEventData", "MFAUsed")),
)
_FLUSH_ROWS = 200_000


def _get(record: dict, path: tuple[str, ...]) -> object:
    value: object = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def python_arrow(filelist: str, out: str) -> int:
    import orjson
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = [name for name, _ in _KEY_COLUMNS]
    schema = pa.schema(
        [(n, pa.timestamp("us", tz="UTC") if n == "event_time" else pa.string()) for n in names]
    )
    writer = pq.ParquetWriter(out, schema, compression="zstd")
    columns: list[list[object]] = [[] for _ in names]
    rows = total = 0

    def flush() -> None:
        nonlocal columns, rows
        arrays = {n: pa.array(c, type=pa.string()) for n, c in zip(names, columns, strict=True)}
        arrays["event_time"] = pc.cast(
            pc.strptime(arrays["event_time"], format="%Y-%m-%dT%H:%M:%SZ", unit="us"),
            pa.timestamp("us", tz="UTC"),
        )
        writer.write_table(pa.table(arrays, schema=schema))
        columns = [[] for _ in names]
        rows = 0

    for path in _paths(filelist):
        doc = orjson.loads(zlib.decompress(Path(path).read_bytes(), 31))
        appenders = [col.append for col in columns]
        for record in doc["Records"]:
            for append, (_, key_path) in zip(appenders, _KEY_COLUMNS, strict=True):
                append(_get(record, key_path))
        rows += len(doc["Records"])
        total += len(doc["Records"])
        if rows >= _FLUSH_ROWS:
            flush()
    if rows:
        flush()
    writer.close()
    print(total)
    return 0


def analysis_floor(lake: str) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    glob = str(Path(lake) / "events" / "*" / "*" / "*.parquet")
    rows = con.execute(
        "SELECT recipient_account_id, count(DISTINCT user_access_key_id), "
        "count(DISTINCT issued_access_key_id) FROM read_parquet($glob, hive_partitioning = true, "
        "hive_types = {'event_date': DATE, 'recipient_account_id': VARCHAR}, "
        "union_by_name = true) GROUP BY 1",
        {"glob": glob},
    ).fetchall()
    print(len(rows))
    return 0


def analysis_scan(lake: str) -> int:
    """One DuckDB scan of every lake column `sql/analysis/int_events.sql` reads (hashed, so none
    is pruned): what the analysis's own single scan costs before any join."""
    import re

    import duckdb

    from pipeline import queries
    from pipeline.schema import EVENT_COLUMN_NAMES, HIVE_TYPES

    words = set(re.findall(r"[a-z_]+", queries.body("analysis/int_events")))
    cols = [c for c in (*EVENT_COLUMN_NAMES, *HIVE_TYPES) if c in words]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    glob = str(Path(lake) / "events" / "*" / "*" / "*.parquet")
    row = con.execute(
        f"SELECT count(*), bit_xor(hash({', '.join(cols)})) FROM read_parquet($glob, "
        "hive_partitioning = true, hive_types = {'event_date': DATE, "
        "'recipient_account_id': VARCHAR}, union_by_name = true)",
        {"glob": glob},
    ).fetchone()
    print(len(cols), row[0] if row else 0)
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "ingest-floor":
        return ingest_floor(*args)
    if cmd == "duckdb-read-json":
        return duckdb_read_json(*args)
    if cmd == "python-arrow":
        return python_arrow(*args)
    if cmd == "compiled-arrow":
        from bench.compiled_ingest import compiled_arrow

        return compiled_arrow(_paths(args[0]), args[1])
    if cmd == "analysis-floor":
        return analysis_floor(*args)
    if cmd == "analysis-scan":
        return analysis_scan(*args)
    print(f"unknown step {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
