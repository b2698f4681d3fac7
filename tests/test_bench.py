"""The benchmark command runs end to end (on a tiny corpus): every step, the table, the verdicts.

Timings here mean nothing (CI machines are shared); what is checked is that `make bench` cannot
rot: each step's command works on a real simulated corpus, the lake reconciles with the
corpus's planted duplicates, and the table carries the ratios and targets.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_every_step_and_prints_the_table(tmp_path: Path) -> None:
    env = os.environ | {"STS_AUDIT_BENCH_CACHE": str(tmp_path / "cache")}
    committed = (ROOT / "BENCHMARKS.md").read_bytes()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--sizes",
            "4000",
            "--repeat",
            "1",
            "--alternatives-at",
            "all",
            "--no-write",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:] + out[-2000:]
    for label in (
        "ingest floor",
        "sts-audit ingest",
        "rerun with nothing new",
        "analysis floor",
        "sts-audit analyze",
        "alt: DuckDB read_json",
        "alt: Python orjson",
        "alt: prototype compiled pass",
        # the lake without us-east-1, at the largest (here the only) size by default
        "analysis floor, lake without us-east-1",
        "sts-audit analyze, lake without us-east-1",
    ):
        assert label in out, f"no row for {label!r}"
    # its row says what sessions_seen holds: on that lake, sessions seen only through calls
    seen = re.search(r"sessions_seen: ([\d,]+)\s+rows, ([\d,]+) calls", out)
    assert seen, out[-3000:]
    assert int(seen.group(1).replace(",", "")) > 0
    assert "<= 1.25x floor" in out and "<= 4x floor" in out and "< 5 s" in out
    # the analyze row says how many sessions differ from the simulator's truth; the tiny
    # corpus's sessions all match it (the truth test's corpus is larger)
    truth = re.search(r"truth: ([\d,]+) of ([\d,]+) sessions differ, ([\d,]+) outside", out)
    assert truth, out[-3000:]
    assert truth.group(1) == "0" and int(truth.group(2).replace(",", "")) > 0
    assert truth.group(3) == "0"
    assert "against the simulator's truth, 0 of the" in out
    # the run checks the lake against the corpus's planted duplicates: every record but the
    # planted duplicate deliveries is stored
    held = re.search(r"the lake holds ([\d,]+) rows .* \(expected ([\d,]+) stored\)", out)
    assert held, out[-2000:]
    assert held.group(1) == held.group(2)
    # --no-write and the redirected cache leave the committed figures and a real run's cache alone
    assert (ROOT / "BENCHMARKS.md").read_bytes() == committed
    assert (tmp_path / "cache").is_dir() and not (tmp_path / "cache" / "last-run.json").exists()


def _make_recipe(target: str) -> list[str]:
    """The `bench.run` arguments a Makefile target passes."""
    recipe = re.search(
        rf"^{re.escape(target)}:.*\n\t.*-m bench\.run (.*)$", (ROOT / "Makefile").read_text(), re.M
    )
    assert recipe, f"no {target} target running bench.run in the Makefile"
    return shlex.split(recipe.group(1))


def test_quick_benchmark_writes_its_own_file_and_leaves_the_committed_record(
    tmp_path: Path,
) -> None:
    # `make bench-quick` overwrote BENCHMARKS.md, the committed record of the full benchmark,
    # with its 200k/500k figures. Its own arguments here, on 4,000 events, run from a scratch
    # folder so a relative --output lands there and not in this checkout's bench/.cache
    args = _make_recipe("bench-quick")
    assert "--output" not in _make_recipe("bench")  # the full run keeps writing BENCHMARKS.md
    args[args.index("--sizes") + 1] = "4000"
    args[args.index("--repeat") + 1] = "1"
    output = Path(args[args.index("--output") + 1])
    assert output.as_posix() == "bench/.cache/BENCHMARKS-quick.md"
    cache = tmp_path / "cache"
    env = os.environ | {"STS_AUDIT_BENCH_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    committed = (ROOT / "BENCHMARKS.md").read_bytes()

    def bench(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bench.run", *extra],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    proc = bench(*args, "--alternatives-at", "none", "--uncollected-at", "none")
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    quick = tmp_path / output
    assert "wrote bench/.cache/BENCHMARKS-quick.md" in proc.stdout
    text = quick.read_text()
    assert text.startswith("# Benchmarks") and "## 0.004M events" in text
    assert "--sizes 4000" in text and "--output bench/.cache/BENCHMARKS-quick.md" in text
    assert (ROOT / "BENCHMARKS.md").read_bytes() == committed
    # its raw samples sit beside it: a later --replay of the full run's last-run.json is not
    # the quick run's, and replaying the quick run re-renders the quick file
    saved = tmp_path / "bench" / ".cache" / "BENCHMARKS-quick.md.json"
    assert saved.is_file() and not (cache / "last-run.json").exists()
    quick.unlink()
    proc = bench("--replay", str(saved))
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    assert quick.read_text() == text
    assert (ROOT / "BENCHMARKS.md").read_bytes() == committed


def test_trail_folders_leave_out_the_named_accounts_and_regions(tmp_path: Path) -> None:
    from bench.corpus import trail_folders

    logs = tmp_path / "AWSLogs"
    org = logs / "o-exampleorgid"
    for account in ("123456789012", "111122223333"):
        for region in ("us-east-1", "eu-west-1"):
            (org / account / "CloudTrail" / region / "2026" / "11" / "01").mkdir(parents=True)
        (org / account / "CloudTrail-Digest" / "us-east-1").mkdir(parents=True)
    # one account's own trail beside the organization's, and a file that is not a folder
    (logs / "444455556666" / "CloudTrail" / "us-west-2").mkdir(parents=True)
    (logs / "444455556666" / "CloudTrail" / "notes.txt").write_text("")
    (logs / "not-an-account" / "CloudTrail" / "us-east-1").mkdir(parents=True)

    def names(folders: list[Path]) -> list[str]:
        return [str(p.relative_to(logs)) for p in folders]

    assert names(trail_folders(logs)) == [
        "444455556666/CloudTrail/us-west-2",
        "o-exampleorgid/111122223333/CloudTrail/eu-west-1",
        "o-exampleorgid/111122223333/CloudTrail/us-east-1",
        "o-exampleorgid/123456789012/CloudTrail/eu-west-1",
        "o-exampleorgid/123456789012/CloudTrail/us-east-1",
    ]
    assert names(trail_folders(logs, left_out_regions=("us-east-1",))) == [
        "444455556666/CloudTrail/us-west-2",
        "o-exampleorgid/111122223333/CloudTrail/eu-west-1",
        "o-exampleorgid/123456789012/CloudTrail/eu-west-1",
    ]
    assert names(trail_folders(logs, left_out_accounts=("111122223333", "444455556666"))) == [
        "o-exampleorgid/123456789012/CloudTrail/eu-west-1",
        "o-exampleorgid/123456789012/CloudTrail/us-east-1",
    ]


def test_many_files_benchmark_lays_out_the_files_and_measures_both_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import many_files

    monkeypatch.setattr(many_files, "ROOT", tmp_path)
    assert many_files.main(["--files", "250"]) == 0
    archive = tmp_path / "250"
    assert sum(1 for p in archive.rglob("*.json.gz")) == 250
    out = capsys.readouterr().out
    assert out.count("PASS") == 2 and "rerun, nothing new" in out
    # the second call reuses the laid-out files
    assert many_files.lay_out(250) == archive


def test_big_export_benchmark_writes_one_ndjson_file_and_measures_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import big_export

    monkeypatch.setattr(big_export, "ROOT", tmp_path)
    assert big_export.main(["--records", "4000"]) == 0
    export = tmp_path / "export-4000.ndjson"
    lines = export.read_bytes().splitlines()
    assert len(lines) >= 4000 and all(line.startswith(b"{") for line in lines)
    out = capsys.readouterr().out
    assert out.count("PASS") == 1 and "one large object" in out
    # the second call reuses the file
    assert big_export.write_export(4000) == export


def test_big_export_benchmark_writes_each_large_document_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import orjson

    from bench import big_export

    monkeypatch.setattr(big_export, "ROOT", tmp_path)
    assert big_export.main(["--records", "4000", "--shapes", "lookup-events,records"]) == 0
    lookup = orjson.loads((tmp_path / "lookup-events-4000.json").read_bytes())
    records = orjson.loads((tmp_path / "records-4000.json").read_bytes())["Records"]
    assert len(lookup["Events"]) == len(records) >= 4000
    assert [orjson.loads(e["CloudTrailEvent"]) for e in lookup["Events"]] == records
    out = capsys.readouterr().out
    assert out.count("PASS") == 2 and "lookup-events" in out
    with pytest.raises(SystemExit):
        big_export.main(["--shapes", "yaml"])


def test_a_corpus_cache_survives_a_change_to_a_module_that_writes_nothing_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import corpus

    shutil.copytree(ROOT / "pipeline" / "simulate", tmp_path / "pipeline" / "simulate")
    monkeypatch.setattr(corpus, "ROOT", tmp_path)
    before = corpus.simulator_digest()
    with (tmp_path / "pipeline" / "simulate" / "verify.py").open("a") as handle:
        handle.write("\n# the truth check changed\n")
    assert corpus.simulator_digest() == before
    with (tmp_path / "pipeline" / "simulate" / "records.py").open("a") as handle:
        handle.write("\n# the records changed\n")
    assert corpus.simulator_digest() != before


def test_the_compiled_prototype_writes_the_lakes_raw_text_hash_and_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prototype's figure stands for the lake's work only if it writes what the lake holds:
    each record's minified text as DuckDB writes it, the MD5 of that text, the event fields."""
    from bench import compiled_ingest
    from pipeline import ingest as ingest_mod
    from pipeline import lake as lake_mod

    files = sorted(
        str(p)
        for p in (ROOT / "sample_data" / "AWSLogs").rglob("*.json.gz")
        if "CloudTrail-Digest" not in p.parts
    )
    monkeypatch.setattr(compiled_ingest, "_CACHE", tmp_path / "cache")
    assert compiled_ingest.compiled_arrow(files, str(tmp_path / "out")) == 0
    lake = tmp_path / "lake"
    ingest_mod.ingest([str(ROOT / "sample_data" / "AWSLogs")], lake)
    con = lake_mod.connect(lake)
    rows = con.execute(
        f"""
        with p as (
            select * from read_parquet('{tmp_path / "out"}/**/*.parquet', hive_partitioning = false)
        )
        select
            count(*),
            count(distinct p.eventID),
            count(*) filter (where e.event_id is null),
            -- the lake redacts the session token inside its raw text; the prototype leaves it
            count(*) filter (where not contains(e.raw, '"sessionToken"') and e.raw <> p.raw),
            count(*) filter (where e.event_time <> p.event_time),
            count(*) filter (
                where e.session_creation_date is distinct from p.session_creation_date
            ),
            count(*) filter (where e.expiration is distinct from p.expiration),
            count(*) filter (where e.user_arn is distinct from p.userIdentity_arn),
            count(*) filter (where e.request_parameters is distinct from p.requestParameters)
        from p left join events as e on e.event_id = p.eventID
        """
    ).fetchall()[0]
    # every record read (the planted duplicate deliveries too), each found in the lake, equal
    assert rows[0] == 1196 and rows[1] == 1190 and rows[2] == 0
    assert rows[3:] == (0, 0, 0, 0, 0, 0)
    # the MD5 (its first 8 bytes, little-endian) of the same text as the lake's record_hash
    hashes = con.execute(
        f"""
        select e.record_hash, p.record_hash
        from read_parquet('{tmp_path / "out"}/**/*.parquet', hive_partitioning = false) as p
        inner join events as e on e.event_id = p.eventID
        where not contains(e.raw, '"sessionToken"')
        """
    ).fetchall()
    assert len(hashes) > 1000
    for lake_hash, prototype_hash in hashes:
        assert bytes.fromhex(lake_hash)[:8] == int(prototype_hash).to_bytes(8, "little")
