"""The columns a listing shows: the compact set of a terminal table, every column otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.render import Format

if TYPE_CHECKING:
    import polars as pl


# The columns a terminal table shows; json, csv and parquet carry every column.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": (
        "session_id",
        "kind",
        "issue_time",
        "lifetime_seconds",
        "origin_id",
        "depth",
        "mfa",
        "caller_account",
        "target_account",
        "principal_arn",
        "source_ip",
        "events",
        "errors",
        "active_at_end",
    ),
    "seen": (
        "principal_arn",
        "creation_time",
        "first_use",
        "last_use",
        "events",
        "errors",
        "keys",
        "source_ip",
        "mfa_authenticated",
        "why",
    ),
    "chains": (
        "session_id",
        "kind",
        "issue_time",
        "origin_type",
        "origin_id",
        "depth",
        "mfa",
        "account_path",
        "cross_account_hops",
        "left_org",
        "cycle",
    ),
    "logins": (
        "session_id",
        "kind",
        "issue_time",
        "origin_type",
        "subject",
        "issuer",
        "role_arn",
        "target_account",
        "chained_sessions",
        "chain_events",
    ),
    "chain": (
        "depth",
        "session_id",
        "kind",
        "issue_time",
        "caller_arn",
        "principal_arn",
        "target_account",
        "issued_key",
        "expiration",
        "source_ip",
        "mfa",
        "parent_link_rule",
        "events",
    ),
    "evidence": (
        "session_id",
        "role",
        "event_id",
        "event_time",
        "event_name",
        "recipient_account_id",
        "user_type",
        "user_arn",
        "user_access_key_id",
        "session_creation_date",
    ),
    "activity": (
        "event_time",
        "event_source",
        "event_name",
        "recipient_account_id",
        "source_ip_address",
        "user_agent",
        "error_code",
        "user_access_key_id",
        "link_rule",
        "confidence",
    ),
}


def shown(frame: pl.DataFrame, fmt: Format, view: str) -> pl.DataFrame:
    """The compact column set for a terminal table, every column otherwise."""
    if fmt is not Format.table:
        return frame
    if {"depth", "chain_truncated"} <= set(frame.columns):
        # a chain cut at max_chain_depth is deeper than its depth says: show it as a bound
        import polars as pl

        depth = pl.col("depth").cast(pl.String)
        frame = frame.with_columns(
            pl.when(pl.col("chain_truncated"))
            .then(pl.lit(">") + depth)
            .otherwise(depth)
            .alias("depth")
        )
    return frame.select([c for c in TABLE_COLUMNS[view] if c in frame.columns])
