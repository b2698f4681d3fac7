-- name: stg_batch_counts
-- grain: one row per batch
-- Counts for the run summary: read = stored + duplicate + rejected must hold.
select
    count(*) filter (where reject_reason is null or reject_reason not like 'skip:%') as records_read,
    count(*) filter (where reject_reason is not null and reject_reason not like 'skip:%')
        as records_rejected,
    count(*) filter (where reject_reason = 'skip:insight') as insight_records,
    count(*) filter (where reject_reason = 'skip:control') as control_messages,
    count(*) filter (where reject_reason = 'skip:other_stream') as other_stream_events,
    -- the days the stored-to-be records fall on (a rejected record's time may be no day at all)
    min(event_date) filter (where reject_reason is null) as min_date,
    max(event_date) filter (where reject_reason is null) as max_date
from staged
