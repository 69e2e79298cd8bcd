-- Department collaboration: one unit hands a task or record to another unit of the same school.
-- The trail (who passed what to whom, when, with what note) is its own append-only table.

create table handovers (
    tenant_id uuid not null references schools (id),
    id uuid not null,
    from_unit uuid not null,
    to_unit uuid not null,
    subject text not null check (length(trim(subject)) between 1 and 200),
    status text not null default 'open' check (status in ('open', 'accepted', 'returned')),
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, from_unit) references org_units (tenant_id, id),
    foreign key (tenant_id, to_unit) references org_units (tenant_id, id),
    check (from_unit <> to_unit)
);
select xg_isolate('handovers', true);

create table handover_events (
    tenant_id uuid not null references schools (id),
    handover_id uuid not null,
    seq integer not null,
    actor_id uuid not null,
    actor_name text not null,
    action text not null check (action in ('handed', 'accepted', 'returned')),
    note text not null default '' check (length(note) <= 2000),
    at timestamptz not null default now(),
    primary key (tenant_id, handover_id, seq),
    foreign key (tenant_id, handover_id) references handovers (tenant_id, id)
);
select xg_isolate('handover_events', false);
revoke update, delete on handover_events from xuegong_app;
