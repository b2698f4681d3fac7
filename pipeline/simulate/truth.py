"""Ground truth: one JSON line per credential issuance, and the planted scenarios.

Field names are a contract other modules test against; do not rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.simulate.context import Session
from pipeline.simulate.ids import iso


def _t(t: int | None) -> str | None:
    return iso(t) if t is not None else None


def session_truth(s: Session) -> dict[str, Any]:
    """The truth record of one session (see sample_data/README.md for each field)."""
    return {
        "session_id": s.session_id,
        "kind": s.kind,
        "issue_event_ids": s.issue_event_ids,
        "issued_key": s.issued_key,
        "issue_time": iso(s.issue_time),
        "expiration": _t(s.expiration),
        "parent_session_id": s.parent.session_id if s.parent is not None else None,
        "origin_type": s.origin_type,
        "origin_id": s.origin_id,
        "depth": s.depth,
        "accounts": s.accounts,
        "cross_account_hops": s.cross_account_hops,
        "left_org": s.left_org,
        "mfa": s.mfa,
        "requested_duration": s.requested_duration,
        "role_arn": s.role_arn,
        "session_name": s.session_name,
        "caller_account": s.caller_account,
        "target_account": s.target_account,
        "first_use": _t(s.first_use),
        "last_use": _t(s.last_use),
        "events": s.events,
        "related_event_ids": s.related_event_ids,
    }


def dump_sessions(sessions: list[Session]) -> bytes:
    """JSON lines for `truth/sessions.jsonl`."""
    return b"".join(orjson.dumps(session_truth(s)) + b"\n" for s in sessions)


@dataclass
class Scenario:
    """A planted behaviour and what a detection should name."""

    id: str
    title: str
    description: str
    expected_detections: list[str]
    session_ids: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    identifiers: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The scenarios.json entry."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "session_ids": self.session_ids,
            "event_ids": self.event_ids,
            "identifiers": self.identifiers,
            "expected_detections": self.expected_detections,
        }
