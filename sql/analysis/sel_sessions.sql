-- name: sel_sessions
-- grain: one row per credential issuance (session_id), filtered
-- `sts-audit sessions`: sessions issued in [$since, $until) whose caller or target account is
-- $account and whose session ARN, role ARN, caller ARN, origin id, session name, session id or
-- issued key is $principal (each filter skipped when its parameter is null).
-- Every column of the sessions table (json, csv and parquet carry them all; the terminal
-- table shows a compact set, pipeline/commands/analysis.py TABLE_COLUMNS).
select *
from rpt_sessions
where ($account is null or caller_account = $account or target_account = $account)
  and ($since is null or issue_time >= $since)
  and ($until is null or issue_time < $until)
  and (
      $principal is null
      or principal_arn = $principal
      or role_arn = $principal
      or caller_arn = $principal
      or origin_id = $principal
      or session_name = $principal
      or session_id = $principal
      or issued_key = $principal
  )
order by issue_time, session_id
