-- name: stg_lake_keys
-- grain: one row per stored (event_id, record_hash) in the lake partitions a batch touches
-- The identity of what is already stored, so reruns and redeliveries store nothing twice.
-- params: $min_date, $max_date (the batch's event_date range) and $accounts (the batch's
-- recipient accounts): both prune Hive partitions, so the cost does not grow with the lake
select distinct
    event_id,
    record_hash
from events
where
    event_date between $min_date and $max_date
    and list_contains($accounts, recipient_account_id)
