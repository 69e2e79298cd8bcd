-- Every tenant-owned table, with row-level security enabled and forced, spelled out in SQL.
-- xg_isolate() already did this when each table was created, and `xuegong check` (run by
-- `serve`) verifies it; this list makes the rule visible to anyone reading the migrations.
-- A new tenant table is added here too (the schema check fails until it is isolated).

alter table account_roles enable row level security;
alter table account_roles force row level security;
alter table attachments enable row level security;
alter table attachments force row level security;
alter table audit_log enable row level security;
alter table audit_log force row level security;
alter table handover_events enable row level security;
alter table handover_events force row level security;
alter table handovers enable row level security;
alter table handovers force row level security;
alter table org_levels enable row level security;
alter table org_levels force row level security;
alter table org_units enable row level security;
alter table org_units force row level security;
alter table refresh_tokens enable row level security;
alter table refresh_tokens force row level security;
alter table role_permissions enable row level security;
alter table role_permissions force row level security;
alter table roles enable row level security;
alter table roles force row level security;
alter table school_accounts enable row level security;
alter table school_accounts force row level security;
alter table staff_scopes enable row level security;
alter table staff_scopes force row level security;
alter table students enable row level security;
alter table students force row level security;
