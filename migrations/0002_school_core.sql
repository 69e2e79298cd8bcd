-- The tenant-owned core every module stands on: org levels and units, roles, school accounts,
-- a minimal student register, and attachment metadata. Every primary and foreign key starts
-- with tenant_id, so no row can point into another school.

create table org_levels (
    tenant_id uuid not null references schools (id),
    depth smallint not null check (depth between 1 and 6),
    key text not null check (key ~ '^[a-z][a-z0-9_]{0,31}$'),
    name text not null check (length(trim(name)) > 0),
    primary key (tenant_id, depth),
    unique (tenant_id, key)
);
select xg_isolate('org_levels', true);

create table org_units (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    parent_id uuid,
    depth smallint not null,
    code text not null check (length(trim(code)) > 0),
    name text not null check (length(trim(name)) > 0),
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    unique (tenant_id, code),
    foreign key (tenant_id, parent_id) references org_units (tenant_id, id),
    foreign key (tenant_id, depth) references org_levels (tenant_id, depth),
    check ((depth = 1) = (parent_id is null))
);
create index org_units_parent_idx on org_units (tenant_id, parent_id);
select xg_isolate('org_units', true);

create table roles (
    tenant_id uuid not null references schools (id),
    key text not null check (key ~ '^[a-z][a-z0-9_]{0,31}$'),
    name text not null check (length(trim(name)) > 0),
    builtin boolean not null,
    primary key (tenant_id, key)
);
select xg_isolate('roles', false);

create table school_accounts (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    username text not null check (username ~ '^[A-Za-z0-9_.-]{2,64}$'),
    display_name text not null,
    password_hash text not null,
    must_change_password boolean not null default true,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    unique (tenant_id, username)
);
select xg_isolate('school_accounts', false);

create table account_roles (
    tenant_id uuid not null references schools (id),
    account_id uuid not null,
    role_key text not null,
    primary key (tenant_id, account_id, role_key),
    foreign key (tenant_id, account_id) references school_accounts (tenant_id, id) on delete cascade,
    foreign key (tenant_id, role_key) references roles (tenant_id, key)
);
select xg_isolate('account_roles', false);

-- Minimal register; the enrollment module extends it. Student numbers are text (leading zeros
-- are meaningful) and unique per school, not globally.
create table students (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    student_no text not null check (length(trim(student_no)) > 0),
    name text not null check (length(trim(name)) > 0),
    org_unit_id uuid,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    unique (tenant_id, student_no),
    foreign key (tenant_id, org_unit_id) references org_units (tenant_id, id)
);
select xg_isolate('students', true);

create table attachments (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    file_name text not null,
    content_type text not null,
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id)
);
select xg_isolate('attachments', false);
