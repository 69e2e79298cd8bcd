//! The isolation self-check. The service runs it at start-up and refuses to serve if the role it
//! connects as could bypass row-level security, or if any tenant-owned table (a table with a
//! `tenant_id` column) lacks forced RLS, the tenant policy, or tenant-led keys. The test suite
//! runs the same check against freshly migrated databases.

use sqlx::PgConnection;

/// One reason the database is not safe to serve tenants from, as a sentence for an operator.
pub type Problem = String;

/// Problems with the tables and views, whoever is connected.
pub async fn schema_problems(conn: &mut PgConnection) -> Result<Vec<Problem>, sqlx::Error> {
    let mut problems = Vec::new();

    let tables: Vec<(String, bool, bool, bool, Option<String>)> = sqlx::query_as(
        "select c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                exists (select 1 from pg_policy p
                        where p.polrelid = c.oid and p.polname = 'tenant_isolation'
                          and p.polcmd = '*'),
                (select a.attname::text from pg_index i
                   join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                  where i.indrelid = c.oid and i.indisprimary)
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = current_schema() and c.relkind in ('r', 'p')
            and exists (select 1 from pg_attribute a
                        where a.attrelid = c.oid and a.attname = 'tenant_id'
                          and not a.attisdropped)
          order by 1",
    )
    .fetch_all(&mut *conn)
    .await?;

    if tables.is_empty() {
        problems.push("no tenant-owned tables found: has `xuegong migrate` run?".to_owned());
    }
    for (table, enabled, forced, policy, pk_first) in tables {
        if !enabled {
            problems.push(format!("table {table}: row-level security is not enabled"));
        }
        if !forced {
            problems.push(format!("table {table}: row-level security is not forced"));
        }
        if !policy {
            problems.push(format!("table {table}: no tenant_isolation policy for all commands"));
        }
        if pk_first.as_deref() != Some("tenant_id") {
            problems.push(format!("table {table}: primary key does not start with tenant_id"));
        }
    }

    problems.extend(policy_problems(&mut *conn).await?);
    problems.extend(function_problems(&mut *conn).await?);

    let loose_fks: Vec<(String, String)> = sqlx::query_as(
        "select c.relname::text, con.conname::text
           from pg_constraint con
           join pg_class c on c.oid = con.conrelid
           join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute ta on ta.attrelid = con.conrelid and ta.attname = 'tenant_id'
           join pg_attribute ra on ra.attrelid = con.confrelid and ra.attname = 'tenant_id'
          where con.contype = 'f' and n.nspname = current_schema()
            and not ta.attnum = any (con.conkey)
          order by 1, 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (table, constraint) in loose_fks {
        problems.push(format!(
            "table {table}: foreign key {constraint} points at a tenant-owned table without \
             tenant_id, so a row could reference another school"
        ));
    }

    let definer_views: Vec<(String,)> = sqlx::query_as(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = current_schema() and c.relkind in ('v', 'm')
            and not coalesce(c.reloptions && array['security_invoker=true',
                                                   'security_invoker=on',
                                                   'security_invoker=1'], false)
          order by 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (view,) in definer_views {
        problems.push(format!(
            "view {view}: not security_invoker, so it would read with its owner's rights"
        ));
    }
    Ok(problems)
}

/// The only permissive policies a tenant table may carry, as PostgreSQL prints them back.
/// Anything else that admits rows (a careless `using (true)`, an edited tenant policy) is a
/// hole, whatever its name. Restrictive policies only narrow access and are allowed.
/// Both call their function inside a scalar subquery, so PostgreSQL evaluates it once per
/// statement (an InitPlan) rather than once per row (migration 0040).
const TENANT_QUAL: &str = "(tenant_id = ( SELECT xg_current_tenant() AS xg_current_tenant))";
const DISTRICT_QUAL: &str = "(tenant_id IN ( SELECT s.id FROM schools s \
                             WHERE (s.district_id = ( SELECT xg_current_district() AS \
                             xg_current_district))))";

/// Table, policy name, command, USING and WITH CHECK expressions.
type PolicyRow = (String, String, String, Option<String>, Option<String>);

async fn policy_problems(conn: &mut PgConnection) -> Result<Vec<Problem>, sqlx::Error> {
    let policies: Vec<PolicyRow> = sqlx::query_as(
        "select c.relname::text, p.polname::text, p.polcmd::text,
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
           from pg_policy p
           join pg_class c on c.oid = p.polrelid
           join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = current_schema() and p.polpermissive
          order by 1, 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    let squash = |s: &Option<String>| {
        s.as_deref().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let mut problems = Vec::new();
    for (table, name, cmd, qual, check) in &policies {
        let (qual, check) = (squash(qual), squash(check));
        let expected = match name.as_str() {
            "tenant_isolation" => {
                cmd == "*"
                    && qual.as_deref() == Some(TENANT_QUAL)
                    && check.as_deref() == Some(TENANT_QUAL)
            }
            "district_read" => {
                cmd == "r" && qual.as_deref() == Some(DISTRICT_QUAL) && check.is_none()
            }
            _ => false,
        };
        if !expected {
            problems.push(format!(
                "table {table}: permissive policy {name} is not one of the isolation policies \
                 (it may admit other schools' rows)"
            ));
        }
    }
    Ok(problems)
}

/// The tenant functions every policy relies on must read the transaction's setting and nothing
/// else.
async fn function_problems(conn: &mut PgConnection) -> Result<Vec<Problem>, sqlx::Error> {
    let expected = [
        ("xg_current_tenant", "select nullif(current_setting('app.tenant_id', true), '')::uuid"),
        (
            "xg_current_district",
            "select nullif(current_setting('app.district_id', true), '')::uuid",
        ),
    ];
    let mut problems = Vec::new();
    for (name, body) in expected {
        let found: Vec<(String, bool)> = sqlx::query_as(
            "select p.prosrc, p.prosecdef from pg_proc p
               join pg_namespace n on n.oid = p.pronamespace
              where n.nspname = current_schema() and p.proname = $1",
        )
        .bind(name)
        .fetch_all(&mut *conn)
        .await?;
        let ok = matches!(found.as_slice(), [(src, false)] if src.trim() == body);
        if !ok {
            problems.push(format!("function {name} was changed; policies cannot rely on it"));
        }
    }
    Ok(problems)
}

/// Problems with the connected role itself: it must not be able to bypass RLS or own anything.
pub async fn role_problems(conn: &mut PgConnection) -> Result<Vec<Problem>, sqlx::Error> {
    let (role, superuser, bypass, owns_tables, owns_schema): (String, bool, bool, i64, bool) =
        sqlx::query_as(
            "select current_user::text, r.rolsuper, r.rolbypassrls,
                    (select count(*) from pg_class c
                       join pg_namespace n on n.oid = c.relnamespace
                      where n.nspname = current_schema()
                        and pg_has_role(current_user, c.relowner, 'MEMBER')),
                    (select pg_has_role(current_user, n.nspowner, 'MEMBER')
                       from pg_namespace n where n.nspname = current_schema())
               from pg_roles r where r.rolname = current_user",
        )
        .fetch_one(&mut *conn)
        .await?;

    let mut problems = Vec::new();
    if superuser {
        problems.push(format!("role {role} is a superuser, which ignores row-level security"));
    }
    if bypass {
        problems.push(format!("role {role} has BYPASSRLS"));
    }
    if owns_tables > 0 {
        problems.push(format!(
            "role {role} owns (or is a member of the owner of) {owns_tables} relations; the \
             service must connect as a role that owns nothing (run migrations as the owner role)"
        ));
    }
    if owns_schema {
        problems.push(format!("role {role} owns the schema, so it could drop or alter tables"));
    }
    let powerful: Vec<(String,)> = sqlx::query_as(
        "select r.rolname::text from pg_roles r
          where (r.rolsuper or r.rolbypassrls) and r.rolname <> current_user
            and pg_has_role(current_user, r.oid, 'MEMBER')
          order by 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (other,) in powerful {
        problems.push(format!(
            "role {role} is a member of {other}, which can bypass row-level security \
             (SET ROLE would escape isolation)"
        ));
    }
    Ok(problems)
}

/// Runs both checks and folds them into one readable error.
pub async fn verify_service_connection(conn: &mut PgConnection) -> anyhow::Result<()> {
    let mut problems = role_problems(conn).await?;
    problems.extend(schema_problems(conn).await?);
    if problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to serve: the database is not safe for multiple schools:\n  - {}",
        problems.join("\n  - ")
    )
}
