-- Student records (学籍): the full record with personal data sealed per school, status changes,
-- roster imports and transfers between schools of one district.

-- Each school's data key, wrapped by the platform's master key. Created on first use.
create table school_data_keys (
    tenant_id uuid not null references schools (id),
    wrapped bytea not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id)
);
select xg_isolate('school_data_keys', false);

-- Personal data (ID number, phones, address) is stored sealed; `*_hash` is the keyed lookup
-- hash (exact search, per-school uniqueness) and `*_masked` what screens show.
alter table students
    add column gender text check (gender in ('male', 'female')),
    add column birth_date date,
    add column ethnicity text,
    add column id_type text not null default '居民身份证',
    add column id_number_sealed bytea,
    add column id_number_hash text,
    add column id_number_masked text,
    add column national_no text,
    add column political_status text,
    add column grade text,
    add column college text,
    add column major_code text,
    add column major text,
    add column study_length text,
    add column study_form text,
    add column entry_date text,  -- YYYY-MM-DD, or YYYY-MM when the roster gives a month
    add column phone_sealed bytea,
    add column phone_masked text,
    add column address_sealed bytea,
    add column guardian_name text,
    add column guardian_phone_sealed bytea,
    add column guardian_phone_masked text,
    add column photo_attachment_id uuid,
    add column status text not null default 'enrolled'
        check (status in ('enrolled', 'suspended', 'transferred_out', 'withdrawn', 'graduated')),
    add column updated_at timestamptz not null default now(),
    add constraint students_photo_fkey foreign key (tenant_id, photo_attachment_id)
        references attachments (tenant_id, id),
    add constraint students_sealed_with_hash
        check ((id_number_sealed is null) = (id_number_hash is null));
create unique index students_id_number_idx on students (tenant_id, id_number_hash)
    where id_number_hash is not null;
create index students_unit_idx on students (tenant_id, org_unit_id);
create index students_name_idx on students (tenant_id, name);
create index students_status_idx on students (tenant_id, status);

-- Every status change, kept forever: the service role may add rows, never alter them.
create table student_status_changes (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    student_id uuid not null,
    kind text not null check (kind in ('enroll', 'suspend', 'resume', 'withdraw', 'graduate',
                                       'transfer_out', 'transfer_in')),
    from_status text,
    to_status text not null,
    reason text not null check (length(trim(reason)) > 0),
    effective_date date not null,
    document_no text,
    approved_by text,
    attachment_id uuid,
    recorded_by uuid,
    recorded_by_name text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, student_id) references students (tenant_id, id),
    foreign key (tenant_id, attachment_id) references attachments (tenant_id, id)
);
create index student_status_changes_student_idx
    on student_status_changes (tenant_id, student_id, created_at);
select xg_isolate('student_status_changes', true);
revoke update, delete, truncate on student_status_changes from xuegong_app;

-- A roster upload: the file is kept in attachment storage, previewed, then committed once.
create table student_imports (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    attachment_id uuid not null,
    file_name text not null,
    status text not null check (status in ('previewed', 'committing', 'committed', 'failed')),
    total_rows integer not null default 0,
    problem_count integer not null default 0,
    processed_rows integer not null default 0,
    created_units integer not null default 0,
    create_missing_units boolean not null default false,
    failure text,
    -- The first problems of the dry run (row, column, value, message), for the preview page.
    problems jsonb not null default '[]',
    created_by uuid,
    created_by_name text not null,
    created_at timestamptz not null default now(),
    finished_at timestamptz,
    primary key (tenant_id, id),
    foreign key (tenant_id, attachment_id) references attachments (tenant_id, id)
);
select xg_isolate('student_imports', false);

-- A transfer between two schools of one district. Each school holds its own row of the same
-- case (same id, its own direction), so neither school can read the other's tables; the
-- service writes both rows in one transaction at every step. The district reads both.
create table student_transfers (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    direction text not null check (direction in ('incoming', 'outgoing')),
    counterpart_school_id uuid not null references schools (id),
    student_name text not null,
    student_no text not null,
    id_number_masked text not null,
    id_number_sealed bytea not null,
    -- The record in this school: the outgoing student, or the arrival once completed.
    student_id uuid,
    target_unit_id uuid,
    reason text not null,
    status text not null check (status in ('requested', 'sender_approved', 'completed',
                                           'rejected')),
    requested_by_name text not null,
    sender_decision_by text,
    sender_comment text,
    district_decision_by text,
    district_comment text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, student_id) references students (tenant_id, id),
    foreign key (tenant_id, target_unit_id) references org_units (tenant_id, id)
);
select xg_isolate('student_transfers', true);

alter table school_data_keys enable row level security;
alter table school_data_keys force row level security;
alter table student_status_changes enable row level security;
alter table student_status_changes force row level security;
alter table student_imports enable row level security;
alter table student_imports force row level security;
alter table student_transfers enable row level security;
alter table student_transfers force row level security;
