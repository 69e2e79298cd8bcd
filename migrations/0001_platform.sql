-- Platform registry and tenant isolation primitives.
--
-- Migrations run as the owner role. The service connects as `xuegong_app`, a role that owns
-- nothing, is not superuser and cannot bypass RLS. Both roles are cluster-wide and are created
-- by the provisioning scripts (infra/), not here.

-- The tenant and district of the current transaction. Unset or empty yields NULL, and every
-- policy compares with `=`, so an unset context matches no row instead of every row.
create function xg_current_tenant() returns uuid
    language sql stable
    as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create function xg_current_district() returns uuid
    language sql stable
    as $$ select nullif(current_setting('app.district_id', true), '')::uuid $$;

create table districts (
    id uuid primary key,
    slug text not null unique check (slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'),
    name text not null check (length(trim(name)) > 0),
    created_at timestamptz not null default now()
);

-- A school is a tenant. The registry row itself carries no personal data; it is read before any
-- tenant context exists (to resolve `/s/{slug}`), so it is a platform table without RLS.
create table schools (
    id uuid primary key,
    district_id uuid not null references districts (id),
    slug text not null unique check (slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'),
    name text not null check (length(trim(name)) > 0),
    kind text not null check (kind in ('primary', 'junior_high', 'senior_high', 'vocational', 'college')),
    status text not null default 'active' check (status in ('active', 'suspended')),
    modules text[] not null default '{}',
    subdomain text unique check (subdomain ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index schools_district_idx on schools (district_id);

-- Operators and district staff sign in outside any school.
create table platform_accounts (
    id uuid primary key,
    username text not null unique,
    display_name text not null,
    password_hash text not null,
    role text not null check (role in ('operator', 'district_admin')),
    district_id uuid references districts (id),
    created_at timestamptz not null default now(),
    check ((role = 'operator') = (district_id is null))
);

-- Applies the isolation rule to a tenant-owned table: RLS enabled and forced, one policy that
-- admits the current tenant's rows for every command, and optionally a read-only policy that
-- admits the rows of the current district's schools. Every later migration calls this for each
-- tenant-owned table it creates; `xuegong` refuses to start if one was missed.
create function xg_isolate(tbl regclass, district_readable boolean) returns void
    language plpgsql
    as $$
begin
    execute format('alter table %s enable row level security', tbl);
    execute format('alter table %s force row level security', tbl);
    execute format(
        'create policy tenant_isolation on %s for all
             using (tenant_id = xg_current_tenant())
             with check (tenant_id = xg_current_tenant())', tbl);
    if district_readable then
        execute format(
            'create policy district_read on %s for select
                 using (tenant_id in (select s.id from schools s
                                      where s.district_id = xg_current_district()))', tbl);
    end if;
    execute format('grant select, insert, update, delete on %s to xuegong_app', tbl);
end
$$;
revoke all on function xg_isolate(regclass, boolean) from public;

grant select, insert, update on districts, schools to xuegong_app;
grant select, insert, update, delete on platform_accounts to xuegong_app;
