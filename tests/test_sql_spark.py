"""Golden cross-engine test: every analysis step, transpiled by sqlglot, gives the same rows on
Spark 3.5+ as on DuckDB (distributed.md §6.2). Runs only where pyspark and Java are installed:

    python -m venv /tmp/sparkenv && /tmp/sparkenv/bin/pip install -e . 'pyspark>=3.5,<5' 'pandas<3'

It builds each step on Spark from the same `events`, writes it to Parquet and reads it back (as a
Glue job would, which also keeps Spark's plans small), then compares each table with DuckDB's as
text, so INT vs BIGINT and timestamp flavours do not count as differences.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot

from pipeline import analysis, lake
from pipeline.ingest import ingest

pyspark_sql = pytest.importorskip("pyspark.sql")
pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
# the real samples: the simulated organization issues every session it uses in the corpus, so
# only these give int_sessions_seen rows (calls of sessions issued before the lake) to compare
REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real"


@pytest.fixture(scope="module")
def spark() -> object:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("sts-audit-golden")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.parametrize("source", [SAMPLE, REAL], ids=["sample_data", "real"])
def test_every_step_matches_duckdb_on_spark(spark: object, tmp_path: Path, source: Path) -> None:
    if not source.is_dir():
        pytest.skip(f"{source} is absent")
    target = tmp_path / "lake"
    ingest([str(source)], target)
    con = lake.connect(target)
    events = tmp_path / "events.parquet"
    con.execute(f"copy (select * from events) to '{events}' (format parquet)")
    # on the real samples, under a window's first day too (analysis.window_days), so the `why`
    # that names it is compared (the events are the same: the window is only named)
    window = dt.date(2000, 1, 1) if source == REAL else None
    analysis.build(con, analysis.Settings(window_start=window))
    if source == REAL:  # what this case is for: the rows Spark must reproduce
        assert con.execute("select count(*) from int_sessions_seen").fetchall()[0][0] > 100
        named = "select count(*) from int_sessions_seen where why like '%analysis window%'"
        assert con.execute(named).fetchall()[0][0] > 0

    spark.read.parquet(str(events)).createOrReplaceTempView("events")  # type: ignore[attr-defined]
    spark.sql(  # type: ignore[attr-defined]
        "select cast(null as string) as account_id where false"
    ).createOrReplaceTempView("cfg_org_accounts")
    spark.sql(  # type: ignore[attr-defined]
        "select cast(null as string) as org_id where false"
    ).createOrReplaceTempView("cfg_org")
    spark.sql(  # type: ignore[attr-defined]
        "select cast(null as string) as org_id, cast(null as string) as account_id where false"
    ).createOrReplaceTempView("cfg_org_folders")
    spark.sql(  # type: ignore[attr-defined]
        f"select cast('{window}' as date) as first_day"
        if window
        else "select cast(null as date) as first_day where false"
    ).createOrReplaceTempView("cfg_window")
    check = duckdb.connect()
    check.execute("SET TimeZone = 'UTC'")
    differences = {}
    for step in analysis.STEPS:
        sql = sqlglot.transpile(
            analysis.step_sql(step, analysis.Settings()), read="duckdb", write="spark"
        )[0]
        out = tmp_path / "spark" / step
        spark.sql(sql).write.mode("overwrite").parquet(str(out))  # type: ignore[attr-defined]
        spark.read.parquet(str(out)).createOrReplaceTempView(step)  # type: ignore[attr-defined]
        mine = tmp_path / f"{step}.parquet"
        con.execute(f"copy (select * from {step}) to '{mine}' (format parquet)")
        columns = [r[0] for r in check.execute(f"describe select * from '{mine}'").fetchall()]
        text = ", ".join(f"cast({c} as varchar) as {c}" for c in columns)
        duck, other = f"select {text} from '{mine}'", f"select {text} from '{out}/*.parquet'"
        only_duck = check.execute(f"select count(*) from ({duck} except all {other})").fetchall()
        only_spark = check.execute(f"select count(*) from ({other} except all {duck})").fetchall()
        if only_duck[0][0] or only_spark[0][0]:
            differences[step] = (only_duck[0][0], only_spark[0][0])
    assert not differences, f"rows only in DuckDB / only in Spark: {differences}"


def test_the_lakes_own_files_read_on_spark_as_on_duckdb(spark: object, tmp_path: Path) -> None:
    # the data files as the ingest writes them (pyarrow), read by Spark with the partition
    # columns typed as the lake pins them: the same rows, accounts and times as DuckDB reads
    target = tmp_path / "lake"
    ingest([str(SAMPLE)], target)
    con = lake.connect(target)
    columns = "event_id, record_hash, event_time, expiration, session_mfa_authenticated"
    partitions = "cast(event_date as varchar) as event_date, recipient_account_id"
    mine = tmp_path / "duckdb.parquet"
    con.execute(f"copy (select {columns}, {partitions} from events) to '{mine}' (format parquet)")
    out = tmp_path / "spark"
    reader = spark.read.schema(  # type: ignore[attr-defined]
        "event_id string, record_hash string, event_time timestamp, expiration timestamp,"
        " session_mfa_authenticated boolean, event_date string, recipient_account_id string"
    )
    reader.parquet(str(target / "events")).select(
        *columns.split(", "), "event_date", "recipient_account_id"
    ).write.parquet(str(out))
    check = duckdb.connect()
    check.execute("SET TimeZone = 'UTC'")
    text = ", ".join(
        f"cast({c} as varchar)"
        for c in [*columns.split(", "), "event_date", "recipient_account_id"]
    )
    duck, other = f"select {text} from '{mine}'", f"select {text} from '{out}/*.parquet'"
    [(rows,)] = check.execute(f"select count(*) from ({duck})").fetchall()
    assert rows > 1000
    [(only_duck,)] = check.execute(f"select count(*) from ({duck} except all {other})").fetchall()
    [(only_spark,)] = check.execute(f"select count(*) from ({other} except all {duck})").fetchall()
    assert (only_duck, only_spark) == (0, 0)
