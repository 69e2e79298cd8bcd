-- The approval-workflow engine shared by awards, honors, fee waivers and the development
-- pipelines. A definition is one immutable row per version of a kind of application; its steps
-- name the role that acts and whether the reviewer must cover the applicant's org unit.
-- Applications pin the definition version they started on. The action history is append-only.

create table wf_definitions (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    key text not null check (key ~ '^[a-z][a-z0-9_.:-]{0,80}$'),
    version integer not null check (version > 0),
    name text not null check (length(trim(name)) between 1 and 100),
    notice_days integer not null check (notice_days between 0 and 30),
    effective_from timestamptz not null default now(),
    created_by uuid,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    unique (tenant_id, key, version)
);
select xg_isolate('wf_definitions', false);
-- A change is a new version: the service may add versions but never alter or remove one.
revoke update, delete, truncate on wf_definitions from xuegong_app;

create table wf_steps (
    tenant_id uuid not null references schools (id),
    definition_id uuid not null,
    position smallint not null check (position between 1 and 10),
    role_key text not null,
    -- 'unit': a holder of the role whose data scope covers the applicant's unit;
    -- 'school': any holder of the role (office steps).
    reach text not null check (reach in ('unit', 'school')),
    -- The step that recommends: the per-unit quota is enforced when it approves.
    counts_quota boolean not null default false,
    primary key (tenant_id, definition_id, position),
    foreign key (tenant_id, definition_id) references wf_definitions (tenant_id, id),
    foreign key (tenant_id, role_key) references roles (tenant_id, key)
);
select xg_isolate('wf_steps', false);
revoke update, delete, truncate on wf_steps from xuegong_app;

create table wf_applications (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    definition_id uuid not null,
    -- What is applied for, e.g. 'award:<item id>'; quotas count per subject and unit.
    subject_key text not null,
    title text not null,
    applicant_id uuid not null,
    org_unit_id uuid not null,
    quota integer check (quota is null or quota >= 0),
    status text not null check (status in ('in_review', 'returned', 'rejected', 'in_notice', 'approved')),
    step smallint not null check (step >= 1),
    version integer not null default 1,
    recommended boolean not null default false,
    notice_ends_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, definition_id) references wf_definitions (tenant_id, id),
    foreign key (tenant_id, applicant_id) references school_accounts (tenant_id, id),
    foreign key (tenant_id, org_unit_id) references org_units (tenant_id, id)
);
create index wf_applications_status_idx on wf_applications (tenant_id, status, step);
create index wf_applications_quota_idx on wf_applications (tenant_id, subject_key, org_unit_id);
select xg_isolate('wf_applications', true);

create table wf_actions (
    tenant_id uuid not null references schools (id),
    application_id uuid not null,
    seq integer not null check (seq > 0),
    step smallint not null,
    -- Null for the system (the result locking when the notice window closes).
    actor_id uuid,
    actor_name text not null,
    action text not null check (action in
        ('submit', 'approve', 'reject', 'return', 'resubmit', 'object', 'uphold', 'dismiss', 'lock')),
    comment text not null default '' check (length(comment) <= 2000),
    idempotency_key text check (length(idempotency_key) <= 64),
    at timestamptz not null default now(),
    primary key (tenant_id, application_id, seq),
    unique (tenant_id, application_id, idempotency_key),
    foreign key (tenant_id, application_id) references wf_applications (tenant_id, id)
);
select xg_isolate('wf_actions', false);
revoke update, delete, truncate on wf_actions from xuegong_app;
create trigger wf_actions_append_only before update or delete on wf_actions
    for each row execute function xg_audit_is_append_only();

-- Real-name objections filed during the public-notice window, resolved on record.
create table wf_objections (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    application_id uuid not null,
    filer_id uuid not null,
    filer_name text not null,
    reason text not null check (length(trim(reason)) between 1 and 2000),
    filed_at timestamptz not null default now(),
    outcome text check (outcome in ('upheld', 'dismissed')),
    resolution text check (length(resolution) <= 2000),
    resolved_by uuid,
    resolved_at timestamptz,
    primary key (tenant_id, id),
    foreign key (tenant_id, application_id) references wf_applications (tenant_id, id),
    foreign key (tenant_id, filer_id) references school_accounts (tenant_id, id)
);
create index wf_objections_app_idx on wf_objections (tenant_id, application_id);
select xg_isolate('wf_objections', false);

create table wf_notifications (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    account_id uuid not null,
    application_id uuid not null,
    message text not null,
    created_at timestamptz not null default now(),
    read_at timestamptz,
    primary key (tenant_id, id),
    foreign key (tenant_id, account_id) references school_accounts (tenant_id, id) on delete cascade,
    foreign key (tenant_id, application_id) references wf_applications (tenant_id, id)
);
create index wf_notifications_account_idx on wf_notifications (tenant_id, account_id, created_at);
select xg_isolate('wf_notifications', false);

-- One row per (subject, unit) that a recommending step locks while it counts the quota, so two
-- recommendations racing for the last place are serialised.
create table wf_quota_locks (
    tenant_id uuid not null references schools (id),
    subject_key text not null,
    org_unit_id uuid not null,
    primary key (tenant_id, subject_key, org_unit_id),
    foreign key (tenant_id, org_unit_id) references org_units (tenant_id, id)
);
select xg_isolate('wf_quota_locks', false);

-- True if `account`'s data scope covers `unit` (the unit or one of its ancestors is assigned).
create function wf_covers(tenant uuid, account uuid, unit uuid) returns boolean
    language sql stable
    as $$
    with recursive up(id, parent_id) as (
        select id, parent_id from org_units where tenant_id = tenant and id = unit
        union
        select u.id, u.parent_id from org_units u join up on u.id = up.parent_id
         where u.tenant_id = tenant
    )
    select exists (
        select 1 from staff_scopes s join up on up.id = s.org_unit_id
         where s.tenant_id = tenant and s.account_id = account
    )
$$;

-- True if `account` may act on the current step of `app`: never the applicant; a holder of the
-- step's role (covering the applicant's unit for 'unit' steps); and when nobody but the
-- applicant could act, the task goes on to the school's admins.
create function wf_may_review(tenant uuid, app uuid, account uuid) returns boolean
    language sql stable
    as $$
    with cur as (
        select a.applicant_id, a.org_unit_id, s.role_key, s.reach
          from wf_applications a
          join wf_steps s on s.tenant_id = a.tenant_id and s.definition_id = a.definition_id
                         and s.position = a.step
         where a.tenant_id = tenant and a.id = app and a.status = 'in_review'
    ),
    eligible as (
        select r.account_id from account_roles r, cur
         where r.tenant_id = tenant and r.role_key = cur.role_key
           and r.account_id <> cur.applicant_id
           and (cur.reach = 'school' or wf_covers(tenant, r.account_id, cur.org_unit_id))
    )
    select exists (select 1 from cur where cur.applicant_id <> account)
       and (exists (select 1 from eligible where account_id = account)
            or (not exists (select 1 from eligible)
                and exists (select 1 from account_roles r
                             where r.tenant_id = tenant and r.account_id = account
                               and r.role_key = 'school_admin')))
$$;

alter table wf_definitions enable row level security;
alter table wf_definitions force row level security;
alter table wf_steps enable row level security;
alter table wf_steps force row level security;
alter table wf_applications enable row level security;
alter table wf_applications force row level security;
alter table wf_actions enable row level security;
alter table wf_actions force row level security;
alter table wf_objections enable row level security;
alter table wf_objections force row level security;
alter table wf_notifications enable row level security;
alter table wf_notifications force row level security;
alter table wf_quota_locks enable row level security;
alter table wf_quota_locks force row level security;
