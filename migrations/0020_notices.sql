-- Notices (通知公告): a notice written by a staff member, sent to the students of some org
-- units (and everything below them). Publishing fixes one receipt row per recipient student, so
-- read and confirmation counts never change when students move later. Revisions and reminders
-- are append-only trails; attachments reuse the school's `attachments` table.

create table notices (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    title text not null check (length(trim(title)) between 1 and 200),
    -- Already sanitised (ammonia) when written; shown as HTML.
    body_html text not null default '' check (length(body_html) <= 100000),
    category text not null
        check (category in ('general', 'study', 'activity', 'safety', 'aid', 'exam')),
    deadline timestamptz,
    needs_confirmation boolean not null default false,
    allow_reply boolean not null default false,
    status text not null default 'draft'
        check (status in ('draft', 'scheduled', 'published', 'withdrawn')),
    publish_at timestamptz,
    published_at timestamptz,
    withdrawn_at timestamptz,
    sender_id uuid not null,
    sender_name text not null,
    revision integer not null default 1 check (revision >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, sender_id) references school_accounts (tenant_id, id),
    check (status <> 'scheduled' or publish_at is not null),
    check (status <> 'published' or published_at is not null)
);
create index notices_status_idx on notices (tenant_id, status, publish_at);
create index notices_sender_idx on notices (tenant_id, sender_id, created_at desc);
select xg_isolate('notices', false);

-- The audience: org units whose students (including all units below) receive the notice.
create table notice_units (
    tenant_id uuid not null references schools (id),
    notice_id uuid not null,
    org_unit_id uuid not null,
    primary key (tenant_id, notice_id, org_unit_id),
    foreign key (tenant_id, notice_id) references notices (tenant_id, id) on delete cascade,
    foreign key (tenant_id, org_unit_id) references org_units (tenant_id, id)
);
select xg_isolate('notice_units', false);

-- One row per recipient student, written once at publish. `org_unit_id` is the student's unit at
-- that moment (statistics group by it). `attention` is set by a reminder and cleared on opening.
create table notice_recipients (
    tenant_id uuid not null references schools (id),
    notice_id uuid not null,
    student_id uuid not null,
    org_unit_id uuid,
    delivered_at timestamptz not null default now(),
    read_at timestamptz,
    confirmed_at timestamptz,
    reply text check (length(reply) <= 500),
    replied_at timestamptz,
    attention boolean not null default false,
    reminded_at timestamptz,
    primary key (tenant_id, notice_id, student_id),
    foreign key (tenant_id, notice_id) references notices (tenant_id, id),
    foreign key (tenant_id, student_id) references students (tenant_id, id),
    foreign key (tenant_id, org_unit_id) references org_units (tenant_id, id)
);
create index notice_recipients_student_idx
    on notice_recipients (tenant_id, student_id, delivered_at desc);
create index notice_recipients_unit_idx on notice_recipients (tenant_id, notice_id, org_unit_id);
select xg_isolate('notice_recipients', false);
revoke delete on notice_recipients from xuegong_app;

-- The content as it was before each edit (revision n is what revision n + 1 replaced).
create table notice_revisions (
    tenant_id uuid not null references schools (id),
    notice_id uuid not null,
    revision integer not null,
    title text not null,
    body_html text not null,
    category text not null,
    deadline timestamptz,
    editor_id uuid not null,
    editor_name text not null,
    at timestamptz not null default now(),
    primary key (tenant_id, notice_id, revision),
    foreign key (tenant_id, notice_id) references notices (tenant_id, id)
);
select xg_isolate('notice_revisions', false);
revoke update, delete on notice_revisions from xuegong_app;

create table notice_attachments (
    tenant_id uuid not null references schools (id),
    notice_id uuid not null,
    attachment_id uuid not null,
    added_at timestamptz not null default now(),
    primary key (tenant_id, notice_id, attachment_id),
    foreign key (tenant_id, notice_id) references notices (tenant_id, id),
    foreign key (tenant_id, attachment_id) references attachments (tenant_id, id)
);
select xg_isolate('notice_attachments', false);

-- Each one-click reminder: who sent it, when, and how many students it reached.
create table notice_reminders (
    tenant_id uuid not null references schools (id),
    notice_id uuid not null,
    seq integer not null,
    sender_id uuid not null,
    sender_name text not null,
    targets integer not null check (targets >= 0),
    at timestamptz not null default now(),
    primary key (tenant_id, notice_id, seq),
    foreign key (tenant_id, notice_id) references notices (tenant_id, id)
);
select xg_isolate('notice_reminders', false);
revoke update, delete on notice_reminders from xuegong_app;

alter table notices enable row level security;
alter table notices force row level security;
alter table notice_units enable row level security;
alter table notice_units force row level security;
alter table notice_recipients enable row level security;
alter table notice_recipients force row level security;
alter table notice_revisions enable row level security;
alter table notice_revisions force row level security;
alter table notice_attachments enable row level security;
alter table notice_attachments force row level security;
alter table notice_reminders enable row level security;
alter table notice_reminders force row level security;

-- Schools onboarded before this module existed: their built-in roles get the notice grants a
-- new school's roles start with. Each school is entered in turn, so RLS admits its rows only.
do $$
declare
    school uuid;
begin
    for school in select id from schools loop
        perform set_config('app.tenant_id', school::text, true);
        insert into role_permissions (tenant_id, role_key, permission)
        select r.tenant_id, r.key, g.permission
          from roles r
          join (values ('school_admin', 'notices.view'), ('school_admin', 'notices.publish'),
                       ('school_admin', 'notices.report'), ('school_admin', 'notices.inbox'),
                       ('counselor', 'notices.view'), ('counselor', 'notices.publish'),
                       ('head_teacher', 'notices.view'), ('head_teacher', 'notices.publish'),
                       ('league_secretary', 'notices.view'),
                       ('league_secretary', 'notices.publish'),
                       ('party_secretary', 'notices.view'), ('party_secretary', 'notices.publish'),
                       ('training_instructor', 'notices.view'),
                       ('training_instructor', 'notices.publish'),
                       ('finance', 'notices.view'), ('finance', 'notices.publish'),
                       ('student', 'notices.inbox')) as g (role_key, permission)
            on g.role_key = r.key
         where r.tenant_id = school and r.builtin
        on conflict do nothing;
        update schools set policy_version = policy_version + 1 where id = school;
    end loop;
    perform set_config('app.tenant_id', '', true);
end
$$;
