-- name: int_corrections
-- grain: one row per eventID an UPDATED_DATA record corrects (event_id)
-- The records that corrections replace (cloudtrail-semantics.md §1.1, §4.4): an UPDATED_DATA
-- record carries a new eventID and its original's as addendum.originalEventID. Usually none:
-- int_events leaves these out, so the original and its correction do not make two sessions of
-- one issuance or count one call twice.
select distinct addendum_original_event_id as event_id
from events
where addendum_reason = 'UPDATED_DATA'
  and addendum_original_event_id is not null
