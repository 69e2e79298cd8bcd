-- Awards (奖励): the items a school offers, students' applications (each one a workflow
-- application), and disbursement batches with per-student payments. Amounts are in fen.

create table award_items (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    name text not null check (length(trim(name)) between 1 and 100),
    category text not null check (category in ('scholarship', 'title', 'grant')),
    amount_fen bigint not null check (amount_fen between 0 and 100000000),
    criteria text not null default '' check (length(criteria) <= 4000),
    -- Items of one group are mutually exclusive within an academic year (e.g. the national
    -- scholarship and the national encouragement scholarship).
    exclusive_group text check (length(exclusive_group) between 1 and 40),
    class_quota integer check (class_quota is null or class_quota >= 0),
    opens_at timestamptz not null,
    closes_at timestamptz not null,
    attachment_note text not null default '' check (length(attachment_note) <= 500),
    workflow_key text not null,
    reference_code text,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    unique (tenant_id, name),
    check (closes_at > opens_at)
);
select xg_isolate('award_items', true);

create table award_applications (
    tenant_id uuid not null references schools (id),
    application_id uuid not null,
    item_id uuid not null,
    student_id uuid not null,
    academic_year integer not null check (academic_year between 2000 and 2100),
    statement text not null check (length(trim(statement)) between 1 and 4000),
    primary key (tenant_id, application_id),
    unique (tenant_id, item_id, student_id, academic_year),
    foreign key (tenant_id, application_id) references wf_applications (tenant_id, id),
    foreign key (tenant_id, item_id) references award_items (tenant_id, id),
    foreign key (tenant_id, student_id) references students (tenant_id, id)
);
select xg_isolate('award_applications', true);

create table award_batches (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    item_id uuid not null,
    paid_on date not null,
    method text not null check (method in ('bank_transfer', 'campus_card', 'cash')),
    created_by uuid not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, item_id) references award_items (tenant_id, id)
);
select xg_isolate('award_batches', true);

-- One payment per application: an award is paid once. The bank account is sealed with the
-- school's data key (school_data_keys, through the keyring); only a masked form is in clear.
create table award_payments (
    tenant_id uuid not null references schools (id),
    application_id uuid not null,
    batch_id uuid not null,
    amount_fen bigint not null check (amount_fen > 0),
    account_sealed bytea,
    account_masked text,
    primary key (tenant_id, application_id),
    foreign key (tenant_id, application_id) references award_applications (tenant_id, application_id),
    foreign key (tenant_id, batch_id) references award_batches (tenant_id, id)
);
select xg_isolate('award_payments', false);
revoke update, delete on award_payments from xuegong_app;

alter table award_items enable row level security;
alter table award_items force row level security;
alter table award_applications enable row level security;
alter table award_applications force row level security;
alter table award_batches enable row level security;
alter table award_batches force row level security;
alter table award_payments enable row level security;
alter table award_payments force row level security;
