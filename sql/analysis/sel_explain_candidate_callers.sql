-- name: sel_explain_candidate_callers
-- grain: one row per session the lake holds whose principal id the AWSAccount-shaped caller of $session_id names
-- `sts-audit explain` of a chain whose origin is a principal seen only through the role owner's
-- AWSAccount copy (origin_type `AWSAccount`, §4.3): the sessions the lake holds whose
-- assumedRoleId or federatedUserId is that copy's principalId, of its account, valid at the
-- call (5 s of skew). Candidates, never the parent: anyone who may assume the role picks the
-- session name, and the sessions issued where the trail is not collected are not in the lake
-- to rival them.
select
    c.session_id,
    c.kind,
    c.issue_time,
    c.expiration,
    c.caller_arn,
    c.principal_arn,
    c.principal_id,
    c.origin_type,
    c.origin_id,
    c.mfa,
    c.source_ip
from rpt_sessions as s
inner join rpt_sessions as c
    on c.principal_id = s.caller_principal_id
    and c.target_account = s.caller_account
    and c.issue_time <= s.issue_time
    and c.expiration >= s.issue_time - interval '5' second
where s.session_id = $session_id
  and s.origin_type = 'AWSAccount'
  and s.caller_principal_id like '%:%'
  and c.session_id <> s.session_id
order by c.issue_time, c.session_id
