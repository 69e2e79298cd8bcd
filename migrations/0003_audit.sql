-- Append-only, hash-chained audit logs: one chain per school, and one for platform actions
-- (districts, schools' registry rows, platform accounts). The service role may insert and read
-- but never update or delete; a trigger refuses changes even from roles that could.

create table audit_log (
    tenant_id uuid not null references schools (id),
    seq bigint not null check (seq > 0),
    at_micros bigint not null,
    actor_id uuid,
    actor_name text not null,
    action text not null check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    target text not null,
    before jsonb,
    after jsonb,
    client_addr text,
    prev_hash text not null,
    hash text not null,
    primary key (tenant_id, seq)
);
create index audit_log_action_idx on audit_log (tenant_id, action, seq);
select xg_isolate('audit_log', false);
revoke update, delete, truncate on audit_log from xuegong_app;

create table platform_audit_log (
    seq bigint primary key check (seq > 0),
    at_micros bigint not null,
    actor_id uuid,
    actor_name text not null,
    action text not null check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    target text not null,
    before jsonb,
    after jsonb,
    client_addr text,
    prev_hash text not null,
    hash text not null
);
grant select, insert on platform_audit_log to xuegong_app;

create function xg_audit_is_append_only() returns trigger
    language plpgsql
    as $$
begin
    raise exception 'audit entries are append-only';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function xg_audit_is_append_only();
create trigger platform_audit_log_append_only before update or delete on platform_audit_log
    for each row execute function xg_audit_is_append_only();
