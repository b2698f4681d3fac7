-- name: sel_attribution
-- grain: one row for the whole analysis
-- How many calls were made with temporary credentials (an ASIA key or a session creationDate in
-- the caller's identity; the other account's keyless copies not counted) and how many of them
-- int_session_links attributed to a session. The rest used sessions whose issuance is not in
-- the lake (issued before its first day, or in an account whose trail is not collected) or
-- that no key tells apart (sessions' `contested_creation`): `analyze` reports both counts, so
-- an analyst sees what the sessions table does not cover.
select
    (
        select count(*)
        from int_events as e
        where (e.user_access_key_id like 'ASIA%' or e.session_creation_date is not null)
          and not exists (select 1 from int_corrections as c where c.event_id = e.event_id)
    ) as calls_temporary,
    (
        select count(*)
        from int_session_links
        where link_rule <> 'shared_event_id'
    ) as calls_attributed
