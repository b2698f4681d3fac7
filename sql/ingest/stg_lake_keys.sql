-- name: stg_lake_keys
-- grain: one row per stored (event_id, record_hash) in the lake partitions a batch touches,
-- for the eventIDs the batch holds
-- The identity of what is already stored, so reruns and redeliveries store nothing twice.
-- params: $min_date, $max_date (the batch's event_date range) and $accounts (the batch's
-- recipient accounts; NULL for every account when a record of the batch has no
-- recipientAccountId, so its partition was guessed): both prune Hive partitions, so the cost
-- does not grow with the lake.
-- Only the batch's own eventIDs are kept (stg_fresh_events and stg_conflicts look nothing else
-- up): a batch whose dates span the whole archive would otherwise hold the keys of every
-- record stored for its accounts, so memory grew with the number of days ingested.
select distinct
    event_id,
    record_hash
from events
where
    event_date between $min_date and $max_date
    and ($accounts is null or list_contains($accounts, recipient_account_id))
    and event_id in (select s.event_id from staged as s where s.reject_reason is null)
