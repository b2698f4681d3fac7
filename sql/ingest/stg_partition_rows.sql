-- name: stg_partition_rows
-- grain: one row per (event_date, recipient_account_id) partition the batch's new records go to
-- The `staged` rows (staged_row) that `fresh` keeps, listed per partition in staged order: the
-- writer takes each list from the batch's Arrow table into one Parquet file.
-- DuckDB-only (runs at ingest).
-- reads: staged, fresh (stg_fresh_events)
select
    s.event_date,
    s.recipient_account_id,
    list(s.staged_row order by s.staged_row) as staged_rows
from staged as s
semi join fresh as f on s.staged_row = f.staged_row
group by s.event_date, s.recipient_account_id
order by s.event_date, s.recipient_account_id
