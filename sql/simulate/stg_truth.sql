-- name: stg_truth
-- grain: one row per issuance of the simulator's truth file (session_id)
-- The truth file (truth/sessions.jsonl, pipeline/simulate/truth.py names its fields) as a
-- table, typed explicitly (a field that is null on every line must not be inferred as JSON),
-- with `delivered`: one of its issuing events is in the lake (a session issued outside the
-- organization is not delivered to its trail, and is not compared).
-- DuckDB-only (a check of the simulator's corpus, not part of the portable analysis).
-- reads: events
-- params: $path (truth/sessions.jsonl)
with truth as (
    select *
    from read_json(
        $path,
        format = 'newline_delimited',
        columns = {
            session_id: 'VARCHAR', kind: 'VARCHAR', issue_event_ids: 'VARCHAR[]',
            issued_key: 'VARCHAR', issue_time: 'VARCHAR', expiration: 'VARCHAR',
            parent_session_id: 'VARCHAR', origin_type: 'VARCHAR', origin_id: 'VARCHAR',
            depth: 'INTEGER', accounts: 'VARCHAR[]', cross_account_hops: 'INTEGER',
            left_org: 'BOOLEAN', mfa: 'VARCHAR', requested_duration: 'INTEGER',
            role_arn: 'VARCHAR', session_name: 'VARCHAR', caller_account: 'VARCHAR',
            target_account: 'VARCHAR', first_use: 'VARCHAR', last_use: 'VARCHAR',
            events: 'BIGINT', related_event_ids: 'VARCHAR[]'
        }
    )
),

delivered as (
    select distinct i.session_id
    from (
        select session_id, unnest(issue_event_ids) as event_id
        from truth
    ) as i
    inner join events as e on e.event_id = i.event_id
)

select t.*, d.session_id is not null as delivered
from truth as t
left join delivered as d on d.session_id = t.session_id
