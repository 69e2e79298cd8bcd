-- Per-school permissions for roles, staff data scopes, and the link from a student's account to
-- their student record. `policy_version` increases with every change to a school's roles or
-- grants, so service instances can tell a fresh policy from a stale one.

alter table schools add column policy_version bigint not null default 1;

create table role_permissions (
    tenant_id uuid not null references schools (id),
    role_key text not null,
    permission text not null check (permission ~ '^[a-z_]+\.[a-z_]+$'),
    primary key (tenant_id, role_key, permission),
    foreign key (tenant_id, role_key) references roles (tenant_id, key) on delete cascade
);
select xg_isolate('role_permissions', false);

-- The org units a staff member works in; they see those units and everything below them.
create table staff_scopes (
    tenant_id uuid not null references schools (id),
    account_id uuid not null,
    org_unit_id uuid not null,
    primary key (tenant_id, account_id, org_unit_id),
    foreign key (tenant_id, account_id) references school_accounts (tenant_id, id) on delete cascade,
    foreign key (tenant_id, org_unit_id) references org_units (tenant_id, id)
);
create index staff_scopes_unit_idx on staff_scopes (tenant_id, org_unit_id);
select xg_isolate('staff_scopes', false);

alter table school_accounts add column student_id uuid;
alter table school_accounts add constraint school_accounts_student_fkey
    foreign key (tenant_id, student_id) references students (tenant_id, id);
create unique index school_accounts_student_idx on school_accounts (tenant_id, student_id)
    where student_id is not null;
