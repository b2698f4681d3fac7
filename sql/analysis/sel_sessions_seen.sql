-- name: sel_sessions_seen
-- grain: one row per session seen only through its calls, filtered
-- `sts-audit seen`: sessions whose issuing call is not in the lake (int_sessions_seen), first
-- used in [$since, $until) (their creation time lies before the lake for many of them), of
-- account $account (the session ARN's), whose session ARN, role ARN, session name or access key
-- is $principal (each filter skipped when its parameter is null).
-- Every column of the table (json, csv and parquet carry them all; the terminal table shows a
-- compact set, pipeline/commands/analysis.py TABLE_COLUMNS).
select *
from int_sessions_seen
where ($account is null or account = $account)
  and ($since is null or first_use >= $since)
  and ($until is null or first_use < $until)
  and (
      $principal is null
      or principal_arn = $principal
      or role_arn = $principal
      or session_name = $principal
      or position(' ' || $principal || ' ' in ' ' || access_keys || ' ') > 0
  )
order by first_use, principal_arn, creation_time, access_key
