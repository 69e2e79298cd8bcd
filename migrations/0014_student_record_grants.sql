-- Schools onboarded before the student records module existed: their built-in roles get the
-- grants a new school's roles start with (see `builtin_grants`). Each school is entered in turn,
-- so RLS admits its rows only.
do $$
declare
    school uuid;
begin
    for school in select id from schools loop
        perform set_config('app.tenant_id', school::text, true);
        insert into role_permissions (tenant_id, role_key, permission)
        select r.tenant_id, r.key, g.permission
          from roles r
          join (values ('school_admin', 'students.view'), ('school_admin', 'students.manage'),
                       ('school_admin', 'students.reveal'), ('school_admin', 'students.export'),
                       ('school_admin', 'students.self'),
                       ('counselor', 'students.view'), ('head_teacher', 'students.view'),
                       ('league_secretary', 'students.view'), ('party_secretary', 'students.view'),
                       ('training_instructor', 'students.view'), ('finance', 'students.view'),
                       ('student', 'students.self')) as g (role_key, permission)
            on g.role_key = r.key
         where r.tenant_id = school and r.builtin
        on conflict do nothing;
        update schools set policy_version = policy_version + 1 where id = school;
    end loop;
    perform set_config('app.tenant_id', '', true);
end
$$;
