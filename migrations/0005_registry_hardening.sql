-- Invariants the application also checks, enforced again in the database.

-- A unit's parent is exactly one level up. Depth then strictly increases along every path, so
-- the tree can never contain a cycle; and a unit with children cannot change depth.
create function xg_org_unit_depth_check() returns trigger
    language plpgsql
    as $$
begin
    if new.parent_id is not null and not exists (
        select 1 from org_units p
         where p.tenant_id = new.tenant_id and p.id = new.parent_id and p.depth = new.depth - 1
    ) then
        raise exception 'org unit % must sit exactly one level below its parent', new.code
            using errcode = 'check_violation';
    end if;
    if tg_op = 'UPDATE' and new.depth <> old.depth and exists (
        select 1 from org_units c where c.tenant_id = old.tenant_id and c.parent_id = old.id
    ) then
        raise exception 'org unit % has children and cannot change level', old.code
            using errcode = 'check_violation';
    end if;
    return new;
end
$$;

create trigger org_units_depth_check before insert or update on org_units
    for each row execute function xg_org_unit_depth_check();

-- The service needs to change only these registry columns; in particular it can never move a
-- school to another district (which would open its rows to that district's reads).
revoke update on schools from xuegong_app;
grant update (name, kind, status, modules, subdomain, updated_at, policy_version)
    on schools to xuegong_app;
revoke update on districts from xuegong_app;
