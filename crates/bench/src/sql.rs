//! The SQL the student list page issues for one request, with its parameters inlined, for the
//! pgbench baselines. It mirrors `xg_enrollment::search::search` (whose scope CTE and filters
//! are the product's own constant), `xg_authz::grants::of_account` and, for a counselor's unit
//! filter, `xg_authz::scope::units_in_scope` (also the product's constant); keep it in step.

use uuid::Uuid;
use xg_authz::scope::UNITS_IN_SCOPE;
use xg_enrollment::search::{PAGE_SIZE, SCOPED_STUDENTS};

use crate::pgbench::{inline, one_line};

/// The filter the load case uses: 共青团员 (about 60% of students).
pub const POLITICAL: &str = "共青团员";

pub fn search_sql() -> String {
    format!(
        "{SCOPED_STUDENTS}
         select p.id, p.student_no, p.name, p.gender, u.name, p.grade, p.major, p.status,
                p.political_status, p.ethnicity, p.id_number_masked, count(*) over ()
           from picked p
           left join org_units u on u.tenant_id = p.tenant_id and u.id = p.org_unit_id
          order by p.student_no
          limit {PAGE_SIZE} offset $11"
    )
}

fn uuid_lit(id: Uuid) -> String {
    format!("'{id}'::uuid")
}

/// The search statement for `account`'s scope (`None`: the whole school), page 1.
pub fn search(tenant: Uuid, account: Option<Uuid>, political: Option<&str>) -> String {
    let t = uuid_lit(tenant);
    let a = account.map_or("null::uuid".to_owned(), uuid_lit);
    let p = political.map_or("null::text".to_owned(), |p| format!("'{p}'::text"));
    let null = "null::text";
    one_line(&inline(
        &search_sql(),
        &[&t, &a, "null::uuid", null, null, null, null, null, &p, null, "0"],
    ))
}

pub fn set_tenant(tenant: Uuid) -> String {
    format!("select set_config('app.tenant_id', '{tenant}', true);\n")
}

/// One list-page request's statements, in its transaction.
pub fn list_page_script(tenant: Uuid, account: Uuid) -> String {
    let t = uuid_lit(tenant);
    let grants = one_line(&inline(
        "select distinct rp.permission from account_roles ar
           join role_permissions rp on rp.tenant_id = ar.tenant_id and rp.role_key = ar.role_key
          where ar.tenant_id = $1 and ar.account_id = $2",
        &[&t, &uuid_lit(account)],
    ));
    // The counselor's unit filter offers the units of their scope (`list::unit_choices`).
    let units = one_line(&inline(UNITS_IN_SCOPE, &[&t, &uuid_lit(account)]));
    format!(
        "begin;\n{}{grants}{}{units}commit;\n",
        set_tenant(tenant),
        search(tenant, Some(account), Some(POLITICAL))
    )
}
