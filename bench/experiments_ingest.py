"""Ingest experiments on a copy of the pipeline's SQL: what each piece costs, what options save.

    PYTHONPATH=. .venv/bin/python -m bench.experiments_ingest FILELIST [--threads N] [--only NAME]

Runs the statements of `sql/ingest/` the way `pipeline/ingest.py` does (one batch of the given
files), then variants of the costly ones, and prints wall and CPU seconds (all threads) for
each. Nothing is written outside a temp folder; pipeline/ and sql/ are only read.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
import zlib
from pathlib import Path

import duckdb
import orjson

from pipeline import queries, slices, staging
from pipeline.schema import EVENT_COLUMN_NAMES


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(label: str, fn) -> None:  # noqa: ANN001
    w, c = time.perf_counter(), _cpu()
    fn()
    print(f"{time.perf_counter() - w:8.2f} s wall {_cpu() - c:8.2f} s cpu  {label}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("filelist")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    files = [p for p in Path(args.filelist).read_text().splitlines() if p]
    tmp = Path(tempfile.mkdtemp(prefix="ingest-exp-"))
    want = set(args.only)

    def on(name: str) -> bool:
        return not want or name in want

    def floor() -> None:
        for p in files:
            orjson.loads(zlib.decompress(Path(p).read_bytes(), 31))

    timed("floor: zlib + orjson.loads, one thread", floor)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        "CREATE TEMP TABLE batch_files AS SELECT unnest($f) AS local_path, unnest($f) AS "
        "source_uri, CAST(NULL AS VARCHAR) AS account_hint",
        {"f": files},
    )
    largest = max(Path(p).stat().st_size for p in files) * 40
    scan_params = {"files": files, "max_object_size": max(1 << 20, largest)}
    params = scan_params | {"mark": slices.MARK}
    raw = queries.with_cte(
        queries.body("ingest/stg_documents"), "documents", "ingest/stg_raw_records"
    )

    if on("parse"):
        timed(
            "read_json_objects only (count)",
            lambda: con.execute(
                "SELECT count(*) FROM read_json_objects($files, format='unstructured', "
                "maximum_object_size=$max_object_size)",
                scan_params,
            ).fetchall(),
        )
        timed(
            "stg_raw_records (records as text, count)",
            lambda: con.execute(f"SELECT count(*) FROM ({raw})", params).fetchall(),
        )
        timed(
            "read_json records=true, Records as JSON[] (count)",
            lambda: con.execute(
                "SELECT count(*) FROM (SELECT unnest(Records) FROM read_json($files, "
                "columns={'Records': 'JSON[]'}, format='unstructured', "
                "maximum_object_size=$max_object_size))",
                scan_params,
            ).fetchall(),
        )

    sql = staging.staging_sql(queries.body("ingest/stg_documents"))
    timed(
        "stage: CREATE TEMP TABLE staged (stg_raw_records + stg_events)",
        lambda: con.execute(
            "CREATE TEMP TABLE staged AS " + sql, params | {"salt": "x", "run": "r"}
        ),
    )
    n = con.execute("SELECT count(*) FROM staged").fetchone()[0]
    print(f"         {n:,} staged rows")
    con.execute("CREATE TEMP TABLE lake_keys (event_id VARCHAR, record_hash VARCHAR)")
    timed(
        "stg_fresh_events",
        lambda: con.execute(
            "CREATE TEMP TABLE fresh AS " + queries.load("ingest/stg_fresh_events")
        ),
    )
    columns = ", ".join((*EVENT_COLUMN_NAMES, "event_date", "recipient_account_id"))
    con.execute(
        f"CREATE TEMP VIEW fresh_out AS SELECT {columns} FROM staged AS s"
        " SEMI JOIN fresh AS f ON s.source_uri = f.source_uri"
        " AND s.source_position = f.source_position AND s.record_hash = f.record_hash"
    )
    con.execute(f"CREATE TEMP VIEW all_out AS SELECT {columns} FROM staged")
    narrow = [c for c in EVENT_COLUMN_NAMES if c not in {"raw"}]
    con.execute(
        f"CREATE TEMP VIEW no_raw AS SELECT {', '.join(narrow)}, event_date, "
        "recipient_account_id FROM staged"
    )

    def copy(label: str, source: str, opts: str, partitioned: bool = True) -> None:
        out = tmp / label.replace(" ", "_")
        part = ", PARTITION_BY (event_date, recipient_account_id)" if partitioned else ""
        target = out if partitioned else out.with_suffix(".parquet")
        timed(
            f"COPY {source} {opts}{' partitioned' if partitioned else ' single file'}",
            lambda: con.execute(f"COPY {source} TO '{target}' (FORMAT parquet, {opts}{part})"),
        )
        size = sum(
            p.stat().st_size for p in (out.rglob("*") if partitioned else [target]) if p.is_file()
        )
        print(f"         {size / 2**20:,.0f} MiB written")
        shutil.rmtree(out, ignore_errors=True)
        target.unlink(missing_ok=True)

    base = "COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880"
    if on("copy"):
        copy("as pipeline", "fresh_out", base)
        copy("no semi join", "all_out", base)
        copy("no semi join single", "all_out", base, partitioned=False)
        copy("snappy", "all_out", "COMPRESSION snappy, ROW_GROUP_SIZE 122880")
        copy("uncompressed", "all_out", "COMPRESSION uncompressed, ROW_GROUP_SIZE 122880")
        copy("without raw", "no_raw", base)
        copy(
            "sorted by partition",
            "(SELECT * FROM all_out ORDER BY event_date, recipient_account_id)",
            base,
        )
        copy("materialized", "(SELECT * FROM all_out)", base + ", PER_THREAD_OUTPUT false")
    if on("copy2"):
        blobs = {
            "request_parameters",
            "response_elements",
            "additional_event_data",
            "service_event_details",
            "resources",
        }
        keep = [c for c in EVENT_COLUMN_NAMES if c not in blobs]
        con.execute(
            f"CREATE TEMP VIEW no_blobs AS SELECT {', '.join(keep)}, event_date, "
            "recipient_account_id FROM staged"
        )
        copy("as pipeline", "fresh_out", base)
        copy("without the 5 JSON blobs (kept in raw)", "no_blobs", base)
        parts = con.execute(
            "SELECT DISTINCT event_date, recipient_account_id FROM staged "
            "WHERE event_date IS NOT NULL"
        ).fetchall()
        print(f"         {len(parts)} partitions in the batch")

        def per_partition(source: str, opts: str) -> None:
            out = tmp / "pp"
            for i, (day, account) in enumerate(parts):
                folder = out / f"event_date={day}" / f"recipient_account_id={account}"
                folder.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY (SELECT * EXCLUDE (event_date, recipient_account_id) FROM {source} "
                    "WHERE event_date = $d AND recipient_account_id = $a) "
                    f"TO '{folder}/part-{i}.parquet' (FORMAT parquet, {opts})",
                    {"d": day, "a": account},
                )

        for source in ("all_out", "fresh_out"):
            timed(
                f"COPY {source} one single-file COPY per partition (loop)",
                lambda source=source: per_partition(source, base),
            )
            size = sum(p.stat().st_size for p in (tmp / "pp").rglob("*.parquet"))
            print(f"         {size / 2**20:,.0f} MiB written")
            shutil.rmtree(tmp / "pp", ignore_errors=True)
        con.execute(
            "CREATE TEMP TABLE staged_sorted AS SELECT * FROM staged "
            "ORDER BY event_date, recipient_account_id"
        )
        timed(
            "COPY staged_sorted (pre-sorted) one COPY per partition",
            lambda: per_partition("staged_sorted", base),
        )
        shutil.rmtree(tmp / "pp", ignore_errors=True)
        copy("pre-sorted partitioned", f"(SELECT {columns} FROM staged_sorted)", base)
    if on("stage"):
        # How much of the staging is the typed transform vs the raw text handling.
        con.execute("CREATE TEMP TABLE rr AS " + raw, params)
        timed("  raw_records materialized again (for the pieces below)", lambda: None)
        timed(
            "  json_transform of the typed schema only",
            lambda: con.execute(
                "SELECT count(s.eventID) FROM (SELECT json_transform(raw_text, "
                '\'{"eventID":"VARCHAR","userIdentity":{"arn":"VARCHAR"}}\') AS s FROM rr)'
            ).fetchall(),
        )
        timed(
            "  json_extract of the 5 blobs",
            lambda: con.execute(
                "SELECT count(b[1]) FROM (SELECT json_extract(raw_text, ['$.requestParameters', "
                "'$.responseElements', '$.additionalEventData', '$.serviceEventDetails', "
                "'$.resources']) AS b FROM rr)"
            ).fetchall(),
        )
        timed(
            "  md5 of the record (x2 in stg_events)",
            lambda: con.execute("SELECT count(md5(raw_text)) FROM rr").fetchall(),
        )
        timed(
            "  sessionToken regex hashing",
            lambda: con.execute(
                'SELECT count(CASE WHEN contains(raw_text, \'"sessionToken":"\') THEN '
                "regexp_replace(raw_text, '\"sessionToken\":\"[^\"]*\"', 'x', 'g') END) FROM rr"
            ).fetchall(),
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
