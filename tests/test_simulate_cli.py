"""`sts-audit simulate`: the thin command, its errors, and the sample_data sidecars."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from pipeline.cli import app

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
MITRE = r"^TA\d{4}:T\d{4}(\.\d{3})?$"


def test_simulate_command_writes_corpus_and_one_line_summary(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--days",
            "1",
            "--seed",
            "3",
            "--events",
            "300",
            "--start-date",
            "2026-01-31",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "simulated" in result.output and str(out) in result.output
    summary = json.loads((out / "truth/summary.json").read_text())
    assert summary["start"] == "2026-01-31T00:00:00Z"
    assert summary["events"] >= 300
    assert (out / "AWSLogs/o-exampleorgid/111122223333/CloudTrail").is_dir()


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "--events" in result.output


def test_bad_start_date_is_one_line_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pipeline.cli import main; main()",
            "simulate",
            "--out",
            str(tmp_path),
            "--start-date",
            "01/02/2026",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: --start-date")
    assert "fix: use YYYY-MM-DD" in proc.stderr


def test_existing_output_without_overwrite_is_refused(tmp_path: Path) -> None:
    args = ["simulate", "--out", str(tmp_path), "--days", "1", "--events", "0", "--workers", "1"]
    assert CliRunner().invoke(app, args).exit_code == 0
    again = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1 and "--overwrite" in again.stderr


def test_every_scenario_has_a_matching_sidecar() -> None:
    truth = {s["id"]: s for s in json.loads((SAMPLE_DATA / "truth/scenarios.json").read_text())}
    sidecars = {
        p.stem: yaml.safe_load(p.read_text()) for p in (SAMPLE_DATA / "scenarios").glob("*.yaml")
    }
    assert set(sidecars) == set(truth)
    readme = (SAMPLE_DATA / "README.md").read_text()
    for sid, doc in sidecars.items():
        assert doc["id"] == sid
        assert doc["title"] == truth[sid]["title"]
        assert doc["expected_detections"] == truth[sid]["expected_detections"]
        assert doc["references"] and doc["description"]
        assert all(re.match(MITRE, m) for m in doc["attack_mappings"]), doc["attack_mappings"]
        assert f"`{sid}`" in readme
        for name in doc["expected_detections"]:
            assert f"`{name}`" in readme
