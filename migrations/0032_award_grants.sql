-- Schools onboarded before the awards module existed: their built-in roles get the grants a new
-- school's roles start with (see `builtin_grants`). Each school is entered in turn, so RLS
-- admits its rows only.
do $$
declare
    school uuid;
begin
    for school in select id from schools loop
        perform set_config('app.tenant_id', school::text, true);
        insert into role_permissions (tenant_id, role_key, permission)
        select r.tenant_id, r.key, g.permission
          from roles r
          join (values ('school_admin', 'awards.apply'), ('school_admin', 'awards.review'),
                       ('school_admin', 'awards.notice'), ('school_admin', 'awards.manage'),
                       ('counselor', 'awards.review'), ('counselor', 'awards.notice'),
                       ('head_teacher', 'awards.review'), ('head_teacher', 'awards.notice'),
                       ('league_secretary', 'awards.review'),
                       ('league_secretary', 'awards.notice'),
                       ('party_secretary', 'awards.review'), ('party_secretary', 'awards.notice'),
                       ('training_instructor', 'awards.review'),
                       ('training_instructor', 'awards.notice'),
                       ('finance', 'awards.review'), ('finance', 'awards.notice'),
                       ('student', 'awards.apply'), ('student', 'awards.notice')) as g (role_key, permission)
            on g.role_key = r.key
         where r.tenant_id = school and r.builtin
        on conflict do nothing;
        update schools set policy_version = policy_version + 1 where id = school;
    end loop;
    perform set_config('app.tenant_id', '', true);
end
$$;
