-- name: stg_quarantine_object
-- grain: one row: a large NDJSON object that was read in slices and is quarantined
-- The quarantine row of an object ingested a slice at a time (pipeline/slices.py) when a slice
-- could not be read or its gzip ended early: the object, no single position (the reason names
-- the lines), and the reason. Same columns as stg_quarantine.
-- params: $uri, $reason, $run
select
    cast($uri as varchar) as source_uri,
    cast(null as integer) as source_position,
    cast(null as integer) as source_line,
    cast($reason as varchar) as reason,
    cast(null as varchar) as raw,
    cast($run as varchar) as ingest_run
