-- name: rpt_federated_logins
-- grain: one row per federated entry session (session_id of a depth-1 SAML, OIDC, Cognito or Identity Center session)
-- Every entry from outside IAM: SAML (AssumeRoleWithSAML and SAML console sign-ins), OIDC
-- (AssumeRoleWithWebIdentity), Cognito identity pools (the basic flow's
-- AssumeRoleWithWebIdentity and the enhanced flow's GetCredentialsForIdentity, both with
-- provider cognito-identity.amazonaws.com and the identity id as subject) and IAM Identity
-- Center role credentials (and SAML or Identity Center console sign-ins whose issuance is not in
-- the lake: kind ConsoleLogin), with the provider, issuer and subject AWS saw, the role and account
-- entered, and what followed: the sessions chained from it and the calls made by the whole
-- chain. MFA is `idp_asserted`: AWS cannot see the IdP's MFA (cloudtrail-semantics.md §4.6).
with entries as (
    select
        s.session_id,
        s.kind,
        c.origin_type,
        c.origin_id,
        s.issue_time,
        s.expiration,
        s.lifetime_seconds,
        s.identity_provider,
        s.saml_provider_arn,
        s.saml_issuer,
        s.saml_subject,
        s.oidc_provider,
        s.oidc_subject,
        s.on_behalf_of_user_id,
        s.role_arn,
        s.principal_arn,
        s.target_account,
        s.session_name,
        s.source_identity,
        s.source_ip,
        s.user_agent,
        s.signin_event_id,
        c.mfa,
        s.events
    from int_sessions as s
    inner join int_chains as c on c.session_id = s.session_id
    where c.depth = 1
      and c.origin_type in ('SAML', 'OIDC', 'Cognito', 'IdentityCenter')
),

followers as (
    select
        c.root_session_id,
        count(*) - 1 as chained_sessions,
        cast(sum(s.events) as bigint) as chain_events,
        max(c.depth) as max_depth,
        count(distinct s.target_account) as accounts_reached,
        min(s.first_use) as first_use,
        max(s.last_use) as last_use
    from int_chains as c
    inner join int_sessions as s on s.session_id = c.session_id
    group by c.root_session_id
)

select
    e.session_id,
    e.kind,
    e.origin_type,
    e.origin_id,
    coalesce(e.oidc_provider, e.saml_provider_arn, e.identity_provider) as provider,
    coalesce(e.saml_issuer, e.oidc_provider) as issuer,
    -- a console sign-in whose issuance is not in the lake shows no assertion: the session name
    -- the IdP gave (Identity Center's user name, a SAML RoleSessionName) stands in
    coalesce(
        e.saml_subject,
        e.oidc_subject,
        e.on_behalf_of_user_id,
        case when e.kind = 'ConsoleLogin' then e.session_name end
    ) as subject,
    e.issue_time,
    e.expiration,
    e.lifetime_seconds,
    e.role_arn,
    e.principal_arn,
    e.target_account,
    e.session_name,
    e.source_identity,
    e.source_ip,
    e.user_agent,
    -- the console sign-in made with this entry (SAML console federation), if any
    e.signin_event_id as console_signin_event_id,
    e.mfa,
    e.events,
    coalesce(f.chained_sessions, 0) as chained_sessions,
    coalesce(f.chain_events, 0) as chain_events,
    coalesce(f.max_depth, 1) as max_depth,
    coalesce(f.accounts_reached, 1) as accounts_reached,
    f.first_use,
    f.last_use
from entries as e
left join followers as f on f.root_session_id = e.session_id
order by e.issue_time, e.session_id
