-- The isolation policies, rewritten so PostgreSQL evaluates the tenant and district once per
-- statement instead of once per row. Which rows they admit does not change.
--
-- Before, `tenant_id = xg_current_tenant()` called `current_setting()` and parsed a uuid for
-- every row a scan returned. On a table that also has the district-read policy, PostgreSQL ORs
-- the two permissive policies, cannot fold the OR against the statement's own
-- `tenant_id = ...` filter, and so paid that call on every row (counting one school's 50,000
-- students took twice as long as without RLS; docs/benchmarks.md has the profile). Wrapping the
-- call in a scalar subquery makes it an InitPlan: computed once, then compared per row as a
-- plain parameter.

create or replace function xg_isolate(tbl regclass, district_readable boolean) returns void
    language plpgsql
    as $$
begin
    execute format('alter table %s enable row level security', tbl);
    execute format('alter table %s force row level security', tbl);
    execute format(
        'create policy tenant_isolation on %s for all
             using (tenant_id = (select xg_current_tenant()))
             with check (tenant_id = (select xg_current_tenant()))', tbl);
    if district_readable then
        execute format(
            'create policy district_read on %s for select
                 using (tenant_id in (select s.id from schools s
                                      where s.district_id = (select xg_current_district())))',
            tbl);
    end if;
    execute format('grant select, insert, update, delete on %s to xuegong_app', tbl);
end
$$;
revoke all on function xg_isolate(regclass, boolean) from public;

-- Recreate both policies on every table that has them, in this one transaction, so no moment
-- exists where a table is without its policy.
do $$
declare
    t record;
begin
    for t in
        select c.oid::regclass as tbl, p.polname::text as name
          from pg_policy p
          join pg_class c on c.oid = p.polrelid
          join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = current_schema()
           and p.polname in ('tenant_isolation', 'district_read')
         order by 1, 2
    loop
        execute format('drop policy %I on %s', t.name, t.tbl);
        if t.name = 'tenant_isolation' then
            execute format(
                'create policy tenant_isolation on %s for all
                     using (tenant_id = (select xg_current_tenant()))
                     with check (tenant_id = (select xg_current_tenant()))', t.tbl);
        else
            execute format(
                'create policy district_read on %s for select
                     using (tenant_id in (select s.id from schools s
                                          where s.district_id = (select xg_current_district())))',
                t.tbl);
        end if;
    end loop;
end
$$;
