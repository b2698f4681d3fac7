"""The analysis against the simulator's ground truth: which sessions the analysis got wrong.

A corpus written by `sts-audit simulate` has `truth/sessions.jsonl` (one line per issuance, its
parent, origin, accounts, MFA state and use) and `truth/summary.json` (the organization's
accounts). `check` compares a lake's analysis (`rpt_sessions`, read through a connection where
the analysis and the lake's `events` can be read) with it; the SQL is in `sql/simulate/`. The
truth test asserts it on a small corpus; the benchmark prints it at every size it runs.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline import queries


@dataclass(frozen=True)
class Mismatch:
    """One field of one session where the analysis differs from the truth (`missing`: the
    session is not in the analysis; `extra`: the analysis has a session the truth lacks)."""

    session_id: str
    kind: str | None
    field: str
    truth: str | None
    ours: str | None
    # the session or its parent shares its ARN and second with another session, and the field
    # is one such a tie can change (the calls, the parent and what the chain inherits, the
    # console AssumeRole a switch absorbs, which of one user's grants of the second it took):
    # the data may not tell them apart. Never for a missing or extra session
    # (sql/simulate/chk_truth_mismatches.sql)
    shared_second: bool = False

    def __str__(self) -> str:
        if self.field in ("missing", "extra"):
            return f"{self.field} {self.kind} {self.session_id}"
        return (
            f"{self.field}: {self.kind} {self.session_id}: "
            f"truth {self.truth!r} != ours {self.ours!r}"
        )


@dataclass(frozen=True)
class TruthCheck:
    sessions: int  # issuances in the truth
    delivered: int  # of those, the ones whose issuing event reached the lake (compared)
    mismatches: list[Mismatch]

    @property
    def sessions_wrong(self) -> int:
        """Sessions with at least one mismatch (an extra session counts too)."""
        return len({m.session_id for m in self.mismatches})

    @property
    def sessions_unexplained(self) -> int:
        """Sessions with a mismatch outside a shared ARN and second: no tie in the data
        explains it."""
        return len({m.session_id for m in self.mismatches if not m.shared_second})

    def by_field(self) -> Counter[str]:
        return Counter(m.field for m in self.mismatches)


def check(con: duckdb.DuckDBPyConnection, corpus: Path) -> TruthCheck:
    """Compare `rpt_sessions` on `con` with the truth of the corpus written to `corpus`."""
    truth = corpus / "truth"
    summary = json.loads((truth / "summary.json").read_text(encoding="utf-8"))
    cur = con.cursor()
    try:
        cur.execute(
            "create or replace temp table truth as " + queries.body("simulate/stg_truth"),
            {"path": str(truth / "sessions.jsonl")},
        )
        sessions, delivered = queries.run(cur, "simulate/chk_truth_counts").fetchall()[0]
        rows = queries.run(
            cur, "simulate/chk_truth_mismatches", {"org_accounts": list(summary["org_accounts"])}
        ).fetchall()
        cur.execute("drop table truth")
    finally:
        cur.close()
    mismatches = sorted((Mismatch(*row) for row in rows), key=lambda m: (m.session_id, m.field))
    return TruthCheck(int(sessions), int(delivered), mismatches)
